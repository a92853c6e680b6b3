package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestDebugPprof(t *testing.T) {
	found, _, err := getopt(runOptions, []string{"--debug-pprof", "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := parseRunFlags(found)
	if err != nil || f.debugPprof != "127.0.0.1:0" {
		t.Fatalf("--debug-pprof: %+v %v", f, err)
	}
	if found, _, _ = getopt(runOptions, nil); func() bool { f, _ := parseRunFlags(found); return f.debugPprof != "" }() {
		t.Fatal("pprof on by default")
	}
	ln, err := servePprof(f.debugPprof)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	resp, err := http.Get("http://" + ln.Addr().String() + "/debug/pprof/heap?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(b), "heap profile") {
		t.Fatalf("heap profile: %d %.200s", resp.StatusCode, b)
	}
	if _, err := servePprof(ln.Addr().String()); err == nil {
		t.Fatal("a busy address must fail")
	}
}
