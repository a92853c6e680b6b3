package sim

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// scenarioLanguage returns the README's "Scenario language" section.
func scenarioLanguage(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n### Scenario language\n")
	if !ok {
		t.Fatal("README.md has no Scenario language section")
	}
	sec, _, _ = strings.Cut(sec, "\n### ")
	return sec
}

// TestScenarioCommandsDocumented checks that the README's Scenario
// language section shows every command the parser accepts, at the start
// of a line of its examples, so the documentation cannot fall behind.
func TestScenarioCommandsDocumented(t *testing.T) {
	sec := scenarioLanguage(t)
	verbs := []string{"config"}
	for v := range arity {
		verbs = append(verbs, v)
	}
	slices.Sort(verbs)
	for _, v := range verbs {
		found := false
		for _, l := range strings.Split(sec, "\n") {
			for _, alt := range strings.Split(l, " | ") {
				if f := strings.Fields(alt); len(f) > 0 && f[0] == v {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("command %s is not shown in the README's Scenario language section", v)
		}
	}
}

// TestExpectationsDocumented checks that every expectation `expect`
// knows (the cases of Runner.check) is shown in the README's Scenario
// language section as `expect NAME`.
func TestExpectationsDocumented(t *testing.T) {
	sec := scenarioLanguage(t)
	f, err := parser.ParseFile(token.NewFileSet(), "expect.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	ast.Inspect(f, func(n ast.Node) bool {
		if fd, ok := n.(*ast.FuncDecl); ok && fd.Name.Name != "check" {
			return false
		}
		if cc, ok := n.(*ast.CaseClause); ok {
			for _, e := range cc.List {
				if bl, ok := e.(*ast.BasicLit); ok && bl.Kind == token.STRING {
					s, _ := strconv.Unquote(bl.Value)
					names = append(names, s)
				}
			}
		}
		return true
	})
	if len(names) < 10 {
		t.Fatalf("found only %d expectations in expect.go: %v", len(names), names)
	}
	for _, n := range names {
		if !strings.Contains(sec, "expect "+n+" ") && !strings.Contains(sec, "expect "+n+"\n") {
			t.Errorf("expectation %s is not shown in the README's Scenario language section", n)
		}
	}
}
