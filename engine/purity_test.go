package engine

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
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

// forbiddenSelectors are impure calls and variables in otherwise allowed
// packages, by import path.
var forbiddenSelectors = map[string]map[string]bool{
	// LoadLocation reads the zoneinfo database from the filesystem; Local is
	// the machine's time zone.
	"time": {"Now": true, "Since": true, "Until": true, "Sleep": true, "After": true, "AfterFunc": true,
		"NewTimer": true, "NewTicker": true, "Tick": true, "LoadLocation": true, "Local": true},
	"fmt": {"Print": true, "Printf": true, "Println": true, "Scan": true, "Scanf": true, "Scanln": true},
}

// randAllowed are the only names of math/rand/v2 (and math/rand) engine
// code may use: explicitly seeded generators. Every other top-level
// function (Int, IntN, N, Uint, Uint64, Perm, Shuffle, ...) draws from the
// process-wide, randomly seeded source — an allowlist, so that a function
// added by a later Go release is caught too.
var randAllowed = map[string]bool{
	"New": true, "NewPCG": true, "NewChaCha8": true, "NewZipf": true, "NewSource": true,
	"Rand": true, "Source": true, "PCG": true, "ChaCha8": true, "Zipf": true,
}

// impureName reports whether name, from the package at path, is impure.
func impureName(path, name string) bool {
	if path == "math/rand/v2" || path == "math/rand" {
		return !randAllowed[name]
	}
	return forbiddenSelectors[path][name]
}

// allowedPackageVars are the package-level variables engine packages may
// declare, keyed "package.name", each with the reason it is not mutable
// state. Engine packages hold no state outside State: a table is a
// constant, a function or a switch, built where used. Even an allowlisted
// variable is never assigned, incremented, addressed or sliced anywhere in
// the engine (the checker enforces that; a call of a pointer method on one
// is beyond what it sees, so the reason must rule that out). `var _ I = v`
// interface assertions need no entry.
var allowedPackageVars = map[string]string{}

// TestPurity parses every non-test Go file under engine/ and fails on an
// import outside the allowed set, a dot import, an impure call, a go
// statement, any use of channels, a package-level variable that is not
// allowlisted, or a write to any package-level variable.
func TestPurity(t *testing.T) {
	fset := token.NewFileSet()
	pkgs := map[string][]*ast.File{} // directory → its files
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
		pkgs[filepath.Dir(path)] = append(pkgs[filepath.Dir(path)], f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 5 || len(pkgs) < 3 {
		t.Fatalf("only %d files in %d packages checked", n, len(pkgs))
	}
	for _, dir := range slices.Sorted(maps.Keys(pkgs)) {
		for _, p := range checkPackage(fset, pkgs[dir], allowedPackageVars) {
			t.Error(p)
		}
	}
}

// checkPackage returns the purity violations in the files of one package
// (parsed with object resolution, the parser's default). allowVars is the
// allowlist of package-level variables.
func checkPackage(fset *token.FileSet, files []*ast.File, allowVars map[string]string) []string {
	pkgVars := map[string]bool{} // the package's package-level variables
	for _, f := range files {
		for _, vs := range topVars(f) {
			for _, id := range vs.Names {
				if id.Name != "_" {
					pkgVars[id.Name] = true
				}
			}
		}
	}
	var bad []string
	for _, f := range files {
		bad = append(bad, checkFile(fset, f, pkgVars, allowVars)...)
	}
	return bad
}

// topVars returns the package-level var specs of f.
func topVars(f *ast.File) []*ast.ValueSpec {
	var out []*ast.ValueSpec
	for _, d := range f.Decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.VAR {
			for _, s := range g.Specs {
				out = append(out, s.(*ast.ValueSpec))
			}
		}
	}
	return out
}

// checkFile returns the purity violations in one parsed file of a package
// whose package-level variables are pkgVars.
func checkFile(fset *token.FileSet, f *ast.File, pkgVars map[string]bool, allowVars map[string]string) []string {
	var bad []string
	report := func(pos token.Pos, msg string) { bad = append(bad, fset.Position(pos).String()+": "+msg) }
	names := map[string]string{} // local name → import path
	var dots []string            // dot-imported paths
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
		if local == "." {
			// Its names would be unqualified, out of the selector checks' sight.
			report(im.Pos(), "dot import of "+strconv.Quote(p)+" in the engine")
			dots = append(dots, p)
			continue
		}
		names[local] = p
	}

	// Package-level variables are state outside State.
	top := map[*ast.ValueSpec]bool{}
	for _, vs := range topVars(f) {
		top[vs] = true
		for _, id := range vs.Names {
			switch {
			case id.Name == "_" && vs.Type != nil:
				// var _ Interface = value: a compile-time assertion.
			case id.Name == "_":
				report(id.Pos(), "package-level var _ without a type in the engine (only `var _ Interface = value` assertions are allowed)")
			case allowVars[f.Name.Name+"."+id.Name] == "":
				report(id.Pos(), "package-level variable "+id.Name+" in the engine: engine packages hold no mutable state (use a constant or a function, or allowlist it with a reason)")
			}
		}
	}
	// pkgVar returns the package-level variable (of this package, or
	// pkg.Name of an imported one) whose storage e denotes, if any.
	var pkgVar func(e ast.Expr) (string, bool)
	pkgVar = func(e ast.Expr) (string, bool) {
		switch v := e.(type) {
		case *ast.Ident:
			if v.Obj != nil { // declared in this file: package level or local
				vs, ok := v.Obj.Decl.(*ast.ValueSpec)
				return v.Name, ok && v.Obj.Kind == ast.Var && top[vs]
			}
			return v.Name, pkgVars[v.Name] // declared in another file of the package, or not a variable
		case *ast.SelectorExpr:
			if id, ok := v.X.(*ast.Ident); ok && id.Obj == nil {
				if _, imported := names[id.Name]; imported && !pkgVars[id.Name] {
					return id.Name + "." + v.Sel.Name, true
				}
			}
			return pkgVar(v.X)
		case *ast.ParenExpr:
			return pkgVar(v.X)
		case *ast.IndexExpr:
			return pkgVar(v.X)
		case *ast.StarExpr:
			return pkgVar(v.X)
		}
		return "", false
	}
	written := func(e ast.Expr) {
		if name, ok := pkgVar(e); ok {
			report(e.Pos(), "assignment to package-level variable "+name+" in the engine")
		}
	}

	sels := map[*ast.Ident]bool{} // selectors' names: not references on their own
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
			if name, ok := pkgVar(v.X); ok && v.Op == token.AND {
				report(v.Pos(), "address of package-level variable "+name+" taken in the engine")
			}
		case *ast.SliceExpr:
			if name, ok := pkgVar(v.X); ok {
				report(v.Pos(), "package-level variable "+name+" sliced in the engine (the slice could write to it)")
			}
		case *ast.AssignStmt:
			if v.Tok != token.DEFINE {
				for _, l := range v.Lhs {
					written(l)
				}
			}
		case *ast.IncDecStmt:
			written(v.X)
		case *ast.RangeStmt:
			if v.Tok == token.ASSIGN {
				for _, l := range []ast.Expr{v.Key, v.Value} {
					if l != nil {
						written(l)
					}
				}
			}
		case *ast.SelectorExpr:
			sels[v.Sel] = true
			id, ok := v.X.(*ast.Ident)
			if !ok {
				break
			}
			p, imported := names[id.Name]
			if !imported {
				break
			}
			if impureName(p, v.Sel.Name) {
				report(v.Pos(), id.Name+"."+v.Sel.Name+" is impure")
			}
		case *ast.Ident:
			// An unresolved name may come from a dot import.
			if v.Obj != nil || sels[v] || pkgVars[v.Name] {
				break
			}
			for _, p := range dots {
				if impureName(p, v.Name) {
					report(v.Pos(), v.Name+" (from "+strconv.Quote(p)+") is impure")
				}
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
	bad := checkPackage(fset, []*ast.File{f}, nil)
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

// TestPurityCheckerCatchesHoles feeds the checker one package (one or more
// files) per case and expects exactly the listed violations.
func TestPurityCheckerCatchesHoles(t *testing.T) {
	cases := []struct {
		name  string
		srcs  []string
		allow map[string]string
		want  []string
	}{{
		name: "dot import of time",
		srcs: []string{`package x
import . "time"
func f() {
	_ = Now()
	_ = Duration(1)
	var t struct{ Now int }
	_ = t.Now
}`},
		want: []string{`dot import of "time"`, `Now (from "time") is impure`},
	}, {
		name: "rand globals",
		srcs: []string{`package x
import (
	"math/rand/v2"
	r1 "math/rand"
)
func f() {
	_ = rand.Uint64()
	_ = rand.Uint()
	_ = rand.Uint32N(3)
	_ = rand.IntN(3)
	_ = rand.N(3)
	_ = r1.Uint32()
	_ = r1.Intn(3)
	r := rand.New(rand.NewPCG(1, 2)) // explicitly seeded: pure
	_ = r.Uint64()
	_ = rand.NewZipf(r, 2, 1, 10)
	var s rand.Source = rand.NewChaCha8([32]byte{})
	_ = s
}`},
		want: []string{`import "math/rand" is not allowed`, "rand.Uint64 is impure", "rand.Uint is impure",
			"rand.Uint32N is impure", "rand.IntN is impure", "rand.N is impure", "r1.Uint32 is impure", "r1.Intn is impure"},
	}, {
		name: "time zones",
		srcs: []string{`package x
import "time"
func f() {
	_, _ = time.LoadLocation("Europe/Paris")
	_ = time.Local
	_ = time.FixedZone("x", 3600)
	_ = time.UTC
}`},
		want: []string{"time.LoadLocation is impure", "time.Local is impure"},
	}, {
		name: "package-level variables",
		srcs: []string{`package x
import "github.com/vigil-ha/vigil/engine/vrrp"
type I interface{ M() }
type T struct{}
func (T) M() {}
var _ I = T{}
var counter int
var table = map[string]int{"a": 1}
var (
	a, b = 1, 2
	_    = f
)
var allowed = [2]string{"x", "y"}
const c = 1
func f() {
	counter++
	table["b"] = 2
	allowed[0] = "z"
	p := &allowed
	_ = p
	s := allowed[:]
	_ = s
	for allowed[1] = range table {
	}
	vrrp.Debug = true
	(*(&T{})) = T{}
	allowed := 3
	allowed++
	var local [2]int
	local[0] = allowed
	_ = local[:]
	_ = &local
	_ = table["a"] + a + b + c
}`},
		allow: map[string]string{"x.allowed": "read-only names"},
		want: []string{"package-level variable counter in", "package-level variable table in",
			"package-level variable a in", "package-level variable b in", "package-level var _ without a type",
			"assignment to package-level variable counter", "assignment to package-level variable table",
			"assignment to package-level variable allowed", "address of package-level variable allowed",
			"package-level variable allowed sliced", "assignment to package-level variable allowed",
			"assignment to package-level variable vrrp.Debug"},
	}, {
		name: "write from another file",
		srcs: []string{`package x
var allowed = [1]int{1}
`, `package x
func g(allowed2 []int) {
	allowed[0] = 2
	allowed2[0] = allowed[0]
}`},
		allow: map[string]string{"x.allowed": "read-only table"},
		want:  []string{"assignment to package-level variable allowed"},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fset := token.NewFileSet()
			var files []*ast.File
			for i, src := range c.srcs {
				f, err := parser.ParseFile(fset, "x"+strconv.Itoa(i)+".go", src, 0)
				if err != nil {
					t.Fatal(err)
				}
				files = append(files, f)
			}
			bad := checkPackage(fset, files, c.allow)
			rest := slices.Clone(bad)
			for _, w := range c.want {
				i := slices.IndexFunc(rest, func(b string) bool { return strings.Contains(b, w) })
				if i < 0 {
					t.Errorf("checker missed %q", w)
					continue
				}
				rest = slices.Delete(rest, i, i+1)
			}
			for _, r := range rest {
				t.Errorf("unexpected violation %s", r)
			}
			if t.Failed() {
				t.Logf("all violations: %q", bad)
			}
		})
	}
}
