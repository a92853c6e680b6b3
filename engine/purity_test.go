package engine

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// allowedImports are the only packages engine code may use: pure standard
// library packages and vigil's vocabulary.
var allowedImports = map[string]bool{
	"errors": true, "fmt": true, "sort": true, "slices": true, "maps": true,
	"strings": true, "strconv": true, "bytes": true, "unicode": true, "unicode/utf8": true,
	"math": true, "math/bits": true, "math/rand/v2": true, "cmp": true,
	"net/netip": true, "encoding/json": true, "encoding/binary": true, "encoding/hex": true,
	"time": true, "hash/fnv": true, "iter": true,
	"github.com/vigil-ha/vigil/events":      true,
	"github.com/vigil-ha/vigil/events/conf": true,
	"github.com/vigil-ha/vigil/effects":     true,
}

// forbiddenSelectors are impure calls in otherwise allowed packages.
var forbiddenSelectors = map[string]map[string]bool{
	"time": {"Now": true, "Since": true, "Until": true, "Sleep": true, "After": true, "AfterFunc": true,
		"NewTimer": true, "NewTicker": true, "Tick": true},
	// math/rand/v2's top-level functions use a global, randomly seeded source.
	"rand": {"Int": true, "IntN": true, "Int32": true, "Int32N": true, "Int64": true, "Int64N": true,
		"Uint32": true, "Uint32N": true, "Uint64": true, "Uint64N": true, "UintN": true, "Float32": true,
		"Float64": true, "Perm": true, "Shuffle": true, "N": true, "NormFloat64": true, "ExpFloat64": true},
	"fmt": {"Print": true, "Printf": true, "Println": true, "Scan": true, "Scanf": true, "Scanln": true},
}

// TestPurity parses every non-test Go file under engine/ and fails on an
// import outside the allowed set, an impure call, a go statement or any
// use of channels.
func TestPurity(t *testing.T) {
	fset := token.NewFileSet()
	n := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		n++
		for _, p := range checkFile(fset, f) {
			t.Error(p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 5 {
		t.Fatalf("only %d files checked", n)
	}
}

// checkFile returns the purity violations in one parsed file.
func checkFile(fset *token.FileSet, f *ast.File) []string {
	var bad []string
	report := func(pos token.Pos, msg string) { bad = append(bad, fset.Position(pos).String()+": "+msg) }
	names := map[string]string{} // local name → import path
	for _, im := range f.Imports {
		p, _ := strconv.Unquote(im.Path.Value)
		if !allowedImports[p] && !strings.HasPrefix(p, "github.com/vigil-ha/vigil/engine") {
			report(im.Pos(), "import "+strconv.Quote(p)+" is not allowed in the engine")
		}
		local := p[strings.LastIndex(p, "/")+1:]
		if p == "math/rand/v2" {
			local = "rand"
		}
		if im.Name != nil {
			local = im.Name.Name
		}
		names[local] = p
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch v := n.(type) {
		case *ast.GoStmt:
			report(v.Pos(), "go statement in the engine")
		case *ast.ChanType:
			report(v.Pos(), "channel type in the engine")
		case *ast.SendStmt:
			report(v.Pos(), "channel send in the engine")
		case *ast.SelectStmt:
			report(v.Pos(), "select in the engine")
		case *ast.UnaryExpr:
			if v.Op == token.ARROW {
				report(v.Pos(), "channel receive in the engine")
			}
		case *ast.SelectorExpr:
			id, ok := v.X.(*ast.Ident)
			if !ok {
				break
			}
			p, imported := names[id.Name]
			if !imported {
				break
			}
			base := p[strings.LastIndex(p, "/")+1:]
			if p == "math/rand/v2" {
				base = "rand"
			}
			if forbiddenSelectors[base][v.Sel.Name] {
				report(v.Pos(), id.Name+"."+v.Sel.Name+" is impure")
			}
		}
		return true
	})
	return bad
}

// TestPurityCheckerCatches makes sure the checker itself sees violations.
func TestPurityCheckerCatches(t *testing.T) {
	src := `package x
import (
	"os"
	"time"
	"math/rand/v2"
	"net"
)
func f() {
	go f()
	_ = time.Now()
	_ = rand.IntN(3)
	var c chan int
	c <- 1
	<-c
	_ = os.Args
	_ = net.IPv4len
	_ = time.Duration(1)
}`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "x.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	bad := checkFile(fset, f)
	want := []string{`import "os"`, `import "net"`, "go statement", "time.Now", "rand.IntN", "channel type", "channel send", "channel receive"}
	for _, w := range want {
		found := false
		for _, b := range bad {
			found = found || strings.Contains(b, w)
		}
		if !found {
			t.Errorf("checker missed %s; got %q", w, bad)
		}
	}
	if len(bad) != len(want) {
		t.Errorf("got %d violations, want %d: %q", len(bad), len(want), bad)
	}
}
