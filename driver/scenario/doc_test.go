package scenario

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
)

// TestCommandDocs checks that every command has its file, cmd_<name>.go
// (config and reload share cmd_config.go), whose handler's doc comment
// has a Syntax and an Example section, and that every example directive
// is accepted by the command's spec, so the documentation cannot rot.
func TestCommandDocs(t *testing.T) {
	fset := token.NewFileSet()
	files, err := filepath.Glob("cmd_*.go")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, path := range files {
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		var handlers []*ast.FuncDecl
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && strings.HasPrefix(fd.Name.Name, "cmd") {
				handlers = append(handlers, fd)
			}
		}
		if len(handlers) != 1 {
			t.Errorf("%s: %d handlers, want one", path, len(handlers))
			continue
		}
		fd := handlers[0]
		doc := fd.Doc.Text()
		if !strings.HasPrefix(doc, fd.Name.Name+" ") {
			t.Errorf("%s: %s has no doc comment starting with its name", path, fd.Name.Name)
		}
		syntax, example, ok := sections(doc)
		if !ok {
			t.Errorf("%s: %s's doc comment lacks a Syntax: or an Example: section", path, fd.Name.Name)
			continue
		}
		for _, l := range syntax {
			if c, _, _ := strings.Cut(strings.TrimSpace(l), " "); commandTable[c].run != nil {
				documented[c] = true
				if want := "cmd_" + strings.ReplaceAll(c, "-", "_") + ".go"; path != want && !(c == "reload" && path == "cmd_config.go") {
					t.Errorf("%s documents %s, whose file is %s", path, c, want)
				}
			}
		}
		for _, l := range example {
			cmd, args, err := datadriven.ParseLine(l)
			if err != nil {
				t.Errorf("%s: example %q: %v", path, l, err)
				continue
			}
			c, ok := commandTable[cmd]
			if !ok {
				continue // an input line
			}
			d := &datadriven.TestData{Cmd: cmd, CmdArgs: args}
			if c.spec.input {
				d.Input = "x"
			}
			if _, err := parseArgs(d, &c.spec); err != nil {
				t.Errorf("%s: example %q: %v", path, l, err)
			}
		}
	}
	for _, n := range commandNames() {
		if !documented[n] {
			t.Errorf("command %s has no Syntax: in a cmd_*.go handler's doc comment", n)
		}
	}
}

// sections returns the indented lines of a doc comment's Syntax: and
// Example: sections.
func sections(doc string) (syntax, example []string, ok bool) {
	var cur *[]string
	var seen []string
	for _, l := range strings.Split(doc, "\n") {
		switch {
		case l == "Syntax:":
			cur, seen = &syntax, append(seen, l)
		case l == "Example:":
			cur, seen = &example, append(seen, l)
		case strings.HasPrefix(l, "\t") && cur != nil:
			if s := strings.TrimSpace(l); !strings.HasPrefix(l, "\t ") && s != "" {
				*cur = append(*cur, s)
			}
		case l != "" && cur != nil:
			cur = nil
		}
	}
	return syntax, example, slices.Equal(seen, []string{"Syntax:", "Example:"}) && len(syntax) > 0 && len(example) > 0
}

// TestPackageDocListsCommands checks that the package doc's command list
// names every command, and only those.
func TestPackageDocListsCommands(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "doc.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, l := range strings.Split(f.Doc.Text(), "\n") {
		if !strings.HasPrefix(l, "\t") {
			continue
		}
		names, _, _ := strings.Cut(strings.TrimSpace(l), "  ")
		for _, n := range strings.Split(names, ",") {
			listed = append(listed, strings.TrimSpace(n))
		}
	}
	slices.Sort(listed)
	if !slices.Equal(listed, commandNames()) {
		t.Fatalf("the package doc lists %v, the commands are %v", listed, commandNames())
	}
}
