package config

import (
	"github.com/vigil-ha/vigil/config/lexer"
)

// node is one statement: a keyword, its arguments, and the statements of
// its block when it has one. Statements are split at line ends and at
// braces, so `virtual_ipaddress { 10.0.0.1 }` is a keyword with a block
// holding one statement.
type node struct {
	kw       lexer.Token
	args     []lexer.Token
	file     string
	line     int
	seq      int // index of the logical line: orders diagnostics
	hasBlock bool
	block    []*node
	parent   *node // the statement whose block holds this one
	// entry marks a list entry (an address, a tracked name...): its
	// diagnostics name the enclosing block's keyword.
	entry bool
}

func (n *node) name() string { return n.kw.Text }

// arg returns the i-th argument's text, or "".
func (n *node) arg(i int) string {
	if i < len(n.args) {
		return n.args[i].Text
	}
	return ""
}

// buildTree turns the lexer's lines into statements. A `{` alone on a
// line opens the block of the statement before it, as keepalived allows.
// Unbalanced braces are errors.
func (p *parser) buildTree(lines []lexer.Line) []*node {
	var root []*node
	type frame struct {
		owner *node
		list  *[]*node
	}
	stack := []frame{{nil, &root}}
	for li := range lines {
		l := &lines[li]
		var cur *node
		for _, t := range l.Tokens {
			top := &stack[len(stack)-1]
			switch {
			case t.Text == "{" && !t.Quoted:
				owner := cur
				if owner == nil {
					if n := len(*top.list); n > 0 && !(*top.list)[n-1].hasBlock {
						owner = (*top.list)[n-1]
					}
				}
				if owner == nil {
					p.add(seqDiag{seq: li, d: p.mk(l.File, l.Line, t.Col, "", "'{' without a keyword to open a block for", true)})
					owner = &node{kw: lexer.Token{Text: "{", Col: t.Col}, file: l.File, line: l.Line, seq: li}
				}
				owner.hasBlock = true
				stack = append(stack, frame{owner, &owner.block})
				cur = nil
			case t.Text == "}" && !t.Quoted:
				if len(stack) == 1 {
					p.add(seqDiag{seq: li, d: p.mk(l.File, l.Line, t.Col, "", "'}' does not close any block", true)})
				} else {
					stack = stack[:len(stack)-1]
				}
				cur = nil
			case cur == nil:
				cur = &node{kw: t, file: l.File, line: l.Line, seq: li, parent: top.owner}
				*top.list = append(*top.list, cur)
			default:
				cur.args = append(cur.args, t)
			}
		}
	}
	for i := len(stack) - 1; i > 0; i-- {
		o := stack[i].owner
		p.add(seqDiag{seq: o.seq, d: p.mk(o.file, o.line, o.kw.Col, o.kw.Text, "block is never closed: missing '}'", true)})
	}
	return root
}
