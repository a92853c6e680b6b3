package main

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
)

func TestGenhash(t *testing.T) {
	const body = "<html>genhash me</html>\n"
	var host string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host = r.Host
		if r.URL.Path == "/empty" {
			return
		}
		fmt.Fprint(w, body)
	})
	sum := md5.Sum([]byte(body))
	want := hex.EncodeToString(sum[:])

	for _, tls := range []bool{false, true} {
		var srv *httptest.Server
		if tls {
			srv = httptest.NewTLSServer(h)
		} else {
			srv = httptest.NewServer(h)
		}
		ap := netip.MustParseAddrPort(srv.Listener.Addr().String())
		args := []string{"-s", ap.Addr().String(), "-p", fmt.Sprint(ap.Port()), "-u", "/index.html", "-V", "www.example.org"}
		if tls {
			args = append(args, "-S")
		}
		var out, errb bytes.Buffer
		if rc := realMain(append([]string{"genhash"}, args...), &out, &errb); rc != 0 {
			t.Fatalf("tls=%v: exit %d: %s", tls, rc, errb.String())
		}
		if got := strings.TrimSpace(out.String()); got != want {
			t.Errorf("tls=%v: digest %q, want %q", tls, got, want)
		}
		if host != "www.example.org" {
			t.Errorf("Host header %q", host)
		}
		out.Reset()
		errb.Reset()
		if rc := realMain([]string{"genhash", "--server", ap.Addr().String(), "--port", fmt.Sprint(ap.Port()), "--url", "/empty", "--use-ssl=" + fmt.Sprint(tls)}, &out, &errb); rc != 1 ||
			!strings.Contains(errb.String(), "no data received") {
			t.Errorf("tls=%v: empty body: exit %d, %q", tls, rc, errb.String())
		}
		srv.Close()
	}

	var out, errb bytes.Buffer
	if rc := realMain([]string{"genhash", "-s", "127.0.0.1"}, &out, &errb); rc != 2 || !strings.Contains(errb.String(), "usage") {
		t.Errorf("missing arguments: exit %d, %q", rc, errb.String())
	}
	if rc := realMain([]string{"genhash", "-s", "127.0.0.1", "-p", "1", "-u", "/"}, &out, &errb); rc != 1 {
		t.Errorf("refused connection: exit %d", rc)
	}
}

// TestGenhashMatchesKeepalived compares with Debian's keepalived genhash,
// when installed, on a plain and a chunked (HTTP/1.1) body.
func TestGenhashMatchesKeepalived(t *testing.T) {
	bin, err := exec.LookPath("genhash")
	if err != nil {
		t.Skip("keepalived's genhash is not installed")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "first part;")
		w.(http.Flusher).Flush()
		fmt.Fprint(w, "second part")
	}))
	defer srv.Close()
	ap := netip.MustParseAddrPort(srv.Listener.Addr().String())
	for _, proto := range []string{"1.0", "1.1"} {
		args := []string{"-s", ap.Addr().String(), "-p", fmt.Sprint(ap.Port()), "-u", "/", "-P", proto}
		ka, err := exec.Command(bin, args...).Output()
		if err != nil {
			t.Fatalf("genhash %v: %v", args, err)
		}
		var out, errb bytes.Buffer
		if rc := realMain(append([]string{"genhash"}, args...), &out, &errb); rc != 0 {
			t.Fatalf("vigil genhash: %d %s", rc, errb.String())
		}
		kaDigest := lastField(string(ka))
		if got := strings.TrimSpace(out.String()); got != kaDigest {
			t.Errorf("HTTP/%s: vigil %q, keepalived %q (%q)", proto, got, kaDigest, ka)
		}
	}
}

func lastField(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}
