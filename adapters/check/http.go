package check

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"

	"github.com/vigil-ha/vigil/events/conf"
)

// maxBody bounds how much of a response body is read for the digest and
// the regex. keepalived streams the whole body through MD5; a health
// check page larger than this is a misconfiguration.
const maxBody = 16 << 20

// checkHTTP is HTTP_GET and SSL_GET: every url block is fetched in turn on
// its own connection, and the server is up when each answers with an
// accepted status code and, where configured, the right MD5 digest of
// its body and a regex (non-)match.
//
// Differences from keepalived: keepalived checks one url per attempt and
// moves on to the next url on the following attempt; here one attempt
// checks them all (the verdict over a cycle is the same). keepalived reads
// the body until the server closes; vigil stops at Content-Length when the
// server sends one, so a server that keeps the connection open does not
// time out. regex uses Go's RE2 syntax, not PCRE2.
func (c *Checker) checkHTTP(ctx context.Context, target Target, cfg *conf.Checker) Result {
	h := cfg.HTTP
	if h == nil || len(h.URLs) == 0 {
		return fail("%s has no url", cfg.Type)
	}
	for i := range h.URLs {
		if r := c.fetchURL(ctx, target, cfg, &h.URLs[i]); !r.OK {
			return r
		}
	}
	return success(fmt.Sprintf("%s %s: %d url(s) OK", cfg.Type, target, len(h.URLs)))
}

func (c *Checker) fetchURL(ctx context.Context, target Target, cfg *conf.Checker, u *conf.URL) Result {
	page, err := c.Fetch(ctx, target, cfg, u)
	if err != nil {
		return fail("%s %s%s: %v", cfg.Type, target, u.Path, err)
	}
	if !statusAccepted(page.Status, u.StatusCodes) {
		return fail("%s %s%s: HTTP status %d", cfg.Type, target, u.Path, page.Status)
	}
	if u.Digest != "" && !strings.EqualFold(page.Digest, u.Digest) {
		return fail("%s %s%s: MD5 digest %s, want %s", cfg.Type, target, u.Path, page.Digest, u.Digest)
	}
	if u.Regex != "" {
		matched, err := regexMatch(u, page.Body)
		if err != nil {
			return fail("%s %s%s: %v", cfg.Type, target, u.Path, err)
		}
		if matched == u.RegexNoMatch {
			verdict := "did not match"
			if matched {
				verdict = "matched"
			}
			return fail("%s %s%s: regex %q %s", cfg.Type, target, u.Path, u.Regex, verdict)
		}
	}
	return success(fmt.Sprintf("%s %s%s: HTTP status %d", cfg.Type, target, u.Path, page.Status))
}

// request builds keepalived's GET: HTTP/1.0 unless http_protocol is 1.1,
// "Connection: close" for 1.0C and 1.1, and a Host header with the
// virtual host, else the address and port (bracketed for IPv6).
func request(target Target, proto, path, vhost string) string {
	minor := "0"
	if proto == "1.1" {
		minor = "1"
	}
	host := vhost
	if host == "" {
		host = target.String() // netip.AddrPort brackets IPv6
	}
	var b strings.Builder
	b.WriteString("GET " + path + " HTTP/1." + minor + "\r\n")
	b.WriteString("User-Agent: KeepAliveClient\r\n")
	if proto == "1.0C" || proto == "1.1" {
		b.WriteString("Connection: close\r\n")
	}
	b.WriteString("Host: " + host + "\r\n\r\n")
	return b.String()
}

func (c *Checker) tlsConfig(h *conf.HTTPCheck, vhost string) *tls.Config {
	var tc *tls.Config
	if c.TLS != nil {
		tc = c.TLS.Clone()
	} else {
		// keepalived does not verify the server's certificate unless a CA
		// is configured: a health check tests the service, not its PKI.
		tc = &tls.Config{InsecureSkipVerify: true}
	}
	if h.EnableSNI && vhost != "" {
		tc.ServerName = vhost
	}
	return tc
}

type response struct {
	status int
	body   []byte
}

// readResponse reads the status line and headers, then the raw body —
// not de-chunked, exactly the bytes keepalived and genhash digest.
func readResponse(conn net.Conn) (*response, error) {
	br := bufio.NewReader(conn)
	tp := textproto.NewReader(br)
	line, err := tp.ReadLine()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("no data received")
		}
		return nil, fmt.Errorf("reading the response: %v", describe(err))
	}
	status, err := parseStatus(line)
	if err != nil {
		return nil, err
	}
	hdr, err := tp.ReadMIMEHeader()
	if err != nil {
		return nil, fmt.Errorf("reading the response headers: %v", describe(err))
	}
	limit := int64(maxBody)
	if cl := hdr.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(strings.TrimSpace(cl), 10, 64); err == nil && n >= 0 && n < limit {
			limit = n
		}
	}
	body, err := io.ReadAll(io.LimitReader(br, limit))
	if err != nil && len(body) == 0 {
		return nil, fmt.Errorf("reading the body: %v", describe(err))
	}
	return &response{status: status, body: body}, nil
}

// parseStatus reads "HTTP/1.x NNN reason".
func parseStatus(line string) (int, error) {
	proto, rest, ok := strings.Cut(line, " ")
	if !ok || !strings.HasPrefix(proto, "HTTP/") {
		return 0, fmt.Errorf("not an HTTP response: %q", truncate(line, 40))
	}
	code, _, _ := strings.Cut(strings.TrimLeft(rest, " "), " ")
	n, err := strconv.Atoi(code)
	if err != nil || len(code) != 3 {
		return 0, fmt.Errorf("bad HTTP status line: %q", truncate(line, 40))
	}
	return n, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// statusAccepted applies status_code (default 200-299).
func statusAccepted(status int, ranges []conf.StatusRange) bool {
	if len(ranges) == 0 {
		return status >= 200 && status <= 299
	}
	for _, r := range ranges {
		if status >= r.Min && status <= r.Max {
			return true
		}
	}
	return false
}

// regexMatch applies regex with its options and the offsets: a match
// counts only if it starts at or after regex_min_offset and, when
// regex_max_offset is set, before it.
func regexMatch(u *conf.URL, body []byte) (bool, error) {
	flags := ""
	for _, o := range u.RegexOptions {
		switch o {
		case "caseless":
			flags += "i"
		case "multiline":
			flags += "m"
		case "dotall":
			flags += "s"
		case "ungreedy":
			flags += "U"
		case "utf", "no_auto_capture", "no_auto_possess", "no_start_optimize",
			"no_dotstar_anchor", "never_backslash_c", "dupnames", "use_offset_limit":
			// Optimisation or syntax switches with no effect on what RE2
			// matches.
		default:
			return false, fmt.Errorf("regex option %q is not supported (RE2)", o)
		}
	}
	expr := u.Regex
	if flags != "" {
		expr = "(?" + flags + ")" + expr
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return false, fmt.Errorf("regex %q: %v", u.Regex, err)
	}
	start := u.RegexMinOffset
	if start > len(body) {
		return false, nil
	}
	loc := re.FindIndex(body[start:])
	if loc == nil {
		return false, nil
	}
	if u.RegexMaxOffset > 0 && start+loc[0] >= u.RegexMaxOffset {
		return false, nil
	}
	return true, nil
}
