package lexer

import "strings"

// decomment strips a comment and surrounding blanks from one line, as
// keepalived does before any other processing. A comment starts at '#' or
// '!' outside a double-quoted string; only '"' protects comment characters
// (keepalived ignores single quotes here), and a backslash protects the
// character after it. start is the byte offset of the returned text in s;
// open reports an unterminated double quote.
func decomment(s string) (text string, start int, open bool) {
	i := 0
	for i < len(s) && isBlank(s[i]) {
		i++
	}
	start = i
	end := len(s)
	quote := false
scan:
	for ; i < len(s); i++ {
		switch s[i] {
		case '"':
			quote = !quote
		case '\\':
			i++ // the escaped character never starts a comment or a quote
		case '#', '!':
			if !quote {
				end = i
				break scan
			}
		}
	}
	if end < len(s) || !endsWithEscape(s) {
		for end > start && isBlank(s[end-1]) {
			end--
		}
		return s[start:end], start, quote
	}
	// A trailing unescaped backslash stays, but keepalived drops the blanks
	// before it: "a \" becomes "a\".
	end--
	for end > start && isBlank(s[end-1]) {
		end--
	}
	if end == len(s)-1 {
		return s[start:], start, quote
	}
	return s[start:end] + "\\", start, quote
}

// endsWithEscape reports whether s ends in a backslash that is not itself
// escaped by the backslash before it.
func endsWithEscape(s string) bool {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// isSpace matches keepalived's WHITE_SPACE set for word splitting.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// scanError is a problem found while splitting a line into words.
type scanError struct {
	col int
	msg string
}

// tokenize splits a decommented line into tokens. Braces outside double
// quotes are always words of their own: keepalived cuts a line before and
// after every such brace, so "a{b" is three words. Within the pieces between
// braces, words follow the documented quoting rules: '"' and '\” group
// characters (the quotes are removed and may occur mid-word), and backslash
// escapes are resolved. col0 is the 1-based column of text[0].
func tokenize(text string, col0 int, toks []Token) ([]Token, []scanError) {
	var errs []scanError
	piece := 0
	for i := 0; i <= len(text); {
		j := nextBrace(text, i)
		if j < 0 {
			j = len(text)
		}
		var e []scanError
		toks, e = splitWords(text[piece:j], col0+piece, true, toks)
		errs = append(errs, e...)
		if j == len(text) {
			break
		}
		toks = append(toks, Token{Text: text[j : j+1], Raw: text[j : j+1], Col: col0 + j})
		i = j + 1
		piece = i
	}
	return toks, errs
}

// nextBrace finds the next '{' or '}' at or after i that is not inside a
// double-quoted string, using keepalived's rule (a '"' pairs with the next
// '"', backslashes do not count). It returns -1 if there is none.
func nextBrace(s string, i int) int {
	for ; i < len(s); i++ {
		switch s[i] {
		case '{', '}':
			return i
		case '"':
			k := strings.IndexByte(s[i+1:], '"')
			if k < 0 {
				return -1
			}
			i += k + 1
		}
	}
	return -1
}

// splitWords splits s into words with keepalived's quoted-and-escaped rules
// (the rules its script and regex keywords use, and the ones the manual
// documents under "Quoted strings"). With escapes false, backslash sequences
// are kept verbatim (only their grouping effect applies). Each token gets
// both forms: Text with escapes resolved, Raw with them kept.
func splitWords(s string, col0 int, escapes bool, toks []Token) ([]Token, []scanError) {
	var errs []scanError
	var buf, raw []byte
	i := 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) {
			return toks, errs
		}
		start := i
		plain := true // no quotes or escapes: Text is a substring of s
		quoted := false
		var quote byte
		buf, raw = buf[:0], raw[:0]
	word:
		for i < len(s) {
			c := s[i]
			switch {
			case quote != 0 && c == quote:
				quote = 0
				i++
			case quote == 0 && (c == '"' || c == '\''):
				quote, quoted = c, true
				if plain {
					buf, raw = append(buf, s[start:i]...), append(raw, s[start:i]...)
					plain = false
				}
				i++
			case c == '\\':
				if plain {
					buf, raw = append(buf, s[start:i]...), append(raw, s[start:i]...)
					plain = false
				}
				if i+1 >= len(s) {
					// A trailing backslash escapes nothing; keepalived keeps
					// it as a literal character of ordinary keywords' words.
					buf, raw = append(buf, '\\'), append(raw, '\\')
					i++
					break word
				}
				n := escapeLen(s[i+1:])
				raw = append(raw, s[i:i+1+n]...)
				if escapes {
					buf = append(buf, unescape(s[i+1:i+1+n]))
				} else {
					buf = append(buf, s[i:i+1+n]...)
				}
				i += 1 + n
			case quote == 0 && isSpace(c):
				break word
			default:
				if !plain {
					buf, raw = append(buf, c), append(raw, c)
				}
				i++
			}
		}
		if quote != 0 {
			errs = append(errs, scanError{col0 + start, "missing terminating " + string(quote) + " quote"})
		}
		t := Token{Quoted: quoted, Col: col0 + start}
		if plain {
			t.Text = s[start:i]
			t.Raw = t.Text
		} else {
			t.Text = string(buf)
			t.Raw = t.Text
			if string(raw) != t.Text {
				t.Raw = string(raw)
			}
		}
		toks = append(toks, t)
	}
}

// escapeLen returns how many bytes after a backslash form the escape.
// s is non-empty.
func escapeLen(s string) int {
	switch c := s[0]; {
	case c == 'x' && len(s) > 1 && isHex(s[1]):
		if len(s) > 2 && isHex(s[2]) {
			return 3
		}
		return 2
	case c == 'c' && len(s) > 1:
		return 2
	case c >= '0' && c <= '7':
		n := 1
		for n < 3 && n < len(s) && s[n] >= '0' && s[n] <= '7' {
			n++
		}
		return n
	}
	return 1
}

// unescape resolves one escape sequence (without its backslash) to a byte.
// Like keepalived, \xXX takes at most two hex digits and octal values wrap
// to a byte.
func unescape(e string) byte {
	switch c := e[0]; {
	case c == 'x' && len(e) > 1:
		var v byte
		for i := 1; i < len(e); i++ {
			v = v<<4 | hexVal(e[i])
		}
		return v
	case c == 'c' && len(e) == 2:
		return e[1] & 0x1f
	case c >= '0' && c <= '7':
		var v byte
		for i := 0; i < len(e); i++ {
			v = v<<3 + (e[i] - '0')
		}
		return v
	}
	switch e[0] {
	case 'a':
		return '\a'
	case 'b':
		return '\b'
	case 'E':
		return 0x1b
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	case 'v':
		return '\v'
	}
	return e[0]
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// SplitCommand splits a script command line into argv the way keepalived
// does for notify, track and misc scripts: unquoted whitespace separates
// words, '"' and '\” group characters (the quotes are removed), and
// backslash escapes are resolved. An unterminated quote ends the last word
// at the end of the string. For keepalived's exact behaviour pass the
// token's Raw form, since keepalived resolves escapes only at this step.
func SplitCommand(s string) []string {
	toks, _ := splitWords(s, 1, true, nil)
	if len(toks) == 0 {
		return nil
	}
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.Text
	}
	return out
}
