package check

import (
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/vigil-ha/vigil/events/conf"
)

const page = "<html>vigil health page, build 42</html>\n"

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// webHandler serves the test pages and records what it was asked.
type webHandler struct {
	mu   sync.Mutex
	last *http.Request
}

func (h *webHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.last = r
	h.mu.Unlock()
	switch r.URL.Path {
	case "/ok":
		fmt.Fprint(w, page)
	case "/down":
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	case "/host":
		fmt.Fprint(w, "host="+r.Host)
	case "/redirect":
		http.Redirect(w, r, "/ok", http.StatusFound)
	case "/chunked":
		// Flushing before the end forces chunked transfer coding on
		// HTTP/1.1: the digest is over the raw (chunked) bytes, as
		// keepalived's and genhash's are.
		fmt.Fprint(w, "part one,")
		w.(http.Flusher).Flush()
		fmt.Fprint(w, "part two")
	default:
		http.NotFound(w, r)
	}
}

func (h *webHandler) request() *http.Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last
}

func httpCheck(typ string, urls ...conf.URL) *conf.Checker {
	return &conf.Checker{Type: typ, HTTP: &conf.HTTPCheck{URLs: urls}}
}

func TestHTTPGet(t *testing.T) {
	h := &webHandler{}
	srv := httptest.NewServer(h)
	defer srv.Close()
	target := targetOf(t, srv.Listener.Addr())
	c := &Checker{}

	t.Run("status and digest", func(t *testing.T) {
		wantOK(t, run(t, c, target, httpCheck(conf.CheckHTTP, conf.URL{Path: "/ok", Digest: md5hex(page)})))
		wantFail(t, run(t, c, target, httpCheck(conf.CheckHTTP, conf.URL{Path: "/ok", Digest: md5hex("other")})), "MD5 digest")
		wantFail(t, run(t, c, target, httpCheck(conf.CheckHTTP, conf.URL{Path: "/down"})), "HTTP status 503")
		wantFail(t, run(t, c, target, httpCheck(conf.CheckHTTP, conf.URL{Path: "/missing"})), "HTTP status 404")
	})

	t.Run("status_code ranges", func(t *testing.T) {
		down := conf.URL{Path: "/down", StatusCodes: []conf.StatusRange{{Min: 200, Max: 200}, {Min: 500, Max: 599}}}
		wantOK(t, run(t, c, target, httpCheck(conf.CheckHTTP, down)))
		redirect := conf.URL{Path: "/redirect", StatusCodes: []conf.StatusRange{{Min: 302, Max: 302}}}
		wantOK(t, run(t, c, target, httpCheck(conf.CheckHTTP, redirect)))
		// Redirects are not followed: 302 is not in the default 200-299.
		wantFail(t, run(t, c, target, httpCheck(conf.CheckHTTP, conf.URL{Path: "/redirect"})), "HTTP status 302")
	})

	t.Run("every url must pass", func(t *testing.T) {
		r := run(t, c, target, httpCheck(conf.CheckHTTP, conf.URL{Path: "/ok"}, conf.URL{Path: "/down"}))
		wantFail(t, r, "/down")
	})

	t.Run("request as keepalived sends it", func(t *testing.T) {
		wantOK(t, run(t, c, target, httpCheck(conf.CheckHTTP, conf.URL{Path: "/host"})))
		r := h.request()
		if r.Proto != "HTTP/1.0" || r.UserAgent() != "KeepAliveClient" || r.Host != target.String() {
			t.Errorf("request: %s, User-Agent %q, Host %q", r.Proto, r.UserAgent(), r.Host)
		}
		cfg := httpCheck(conf.CheckHTTP, conf.URL{Path: "/host"})
		cfg.HTTP.Protocol = "1.1"
		wantOK(t, run(t, c, target, cfg))
		if r := h.request(); r.Proto != "HTTP/1.1" || !r.Close {
			t.Errorf("http_protocol 1.1: %s, close=%v", r.Proto, r.Close)
		}
	})

	t.Run("virtualhost", func(t *testing.T) {
		// The checker's default virtual host, overridden per url.
		cfg := httpCheck(conf.CheckHTTP,
			conf.URL{Path: "/host", Digest: md5hex("host=www.example.org")},
			conf.URL{Path: "/host", Digest: md5hex("host=api.example.org"), VirtualHost: "api.example.org"})
		cfg.HTTP.VirtualHost = "www.example.org"
		wantOK(t, run(t, c, target, cfg))
		cfg.HTTP.VirtualHost = "other.example.org"
		wantFail(t, run(t, c, target, cfg), "MD5 digest")
	})

	t.Run("regex", func(t *testing.T) {
		wantOK(t, run(t, c, target, httpCheck(conf.CheckHTTP, conf.URL{Path: "/ok", Regex: `build \d+`})))
		wantFail(t, run(t, c, target, httpCheck(conf.CheckHTTP, conf.URL{Path: "/ok", Regex: `BUILD`})), "did not match")
		wantOK(t, run(t, c, target, httpCheck(conf.CheckHTTP, conf.URL{Path: "/ok", Regex: `BUILD`, RegexOptions: []string{"caseless"}})))
		wantFail(t, run(t, c, target, httpCheck(conf.CheckHTTP, conf.URL{Path: "/ok", Regex: `build`, RegexNoMatch: true})), "matched")
		wantOK(t, run(t, c, target, httpCheck(conf.CheckHTTP, conf.URL{Path: "/ok", Regex: `html`, RegexMinOffset: 5})))
		wantFail(t, run(t, c, target, httpCheck(conf.CheckHTTP, conf.URL{Path: "/ok", Regex: `build`, RegexMaxOffset: 10})), "did not match")
	})

	t.Run("chunked body digest is over the raw bytes", func(t *testing.T) {
		cfg := httpCheck(conf.CheckHTTP, conf.URL{Path: "/chunked", Digest: md5hex("9\r\npart one,\r\n8\r\npart two\r\n0\r\n\r\n")})
		cfg.HTTP.Protocol = "1.1"
		wantOK(t, run(t, c, target, cfg))
	})

	t.Run("refused", func(t *testing.T) {
		wantFail(t, run(t, c, closedPort(t), httpCheck(conf.CheckHTTP, conf.URL{Path: "/"})), "connection refused")
	})
}

func TestHTTPGetNotHTTP(t *testing.T) {
	srv := rawServer(t, "SSH-2.0-OpenSSH_9.2\r\n")
	wantFail(t, run(t, &Checker{}, srv, httpCheck(conf.CheckHTTP, conf.URL{Path: "/"})), "not an HTTP response")
	empty := rawServer(t, "")
	wantFail(t, run(t, &Checker{}, empty, httpCheck(conf.CheckHTTP, conf.URL{Path: "/"})), "no data received")
}

func TestSSLGet(t *testing.T) {
	var mu sync.Mutex
	var sni string
	srv := httptest.NewUnstartedServer(&webHandler{})
	srv.TLS = &tls.Config{GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		mu.Lock()
		sni = hello.ServerName
		mu.Unlock()
		return nil, nil
	}}
	srv.StartTLS()
	defer srv.Close()
	target := targetOf(t, srv.Listener.Addr())
	c := &Checker{}

	wantOK(t, run(t, c, target, httpCheck(conf.CheckSSL, conf.URL{Path: "/ok", Digest: md5hex(page)})))
	wantFail(t, run(t, c, target, httpCheck(conf.CheckSSL, conf.URL{Path: "/down"})), "HTTP status 503")

	cfg := httpCheck(conf.CheckSSL, conf.URL{Path: "/host", Digest: md5hex("host=secure.example.org")})
	cfg.HTTP.VirtualHost = "secure.example.org"
	cfg.HTTP.EnableSNI = true
	wantOK(t, run(t, c, target, cfg))
	mu.Lock()
	if sni != "secure.example.org" {
		t.Errorf("SNI = %q", sni)
	}
	mu.Unlock()

	// SSL_GET against a plain HTTP server fails in the handshake.
	plain := httptest.NewServer(&webHandler{})
	defer plain.Close()
	wantFail(t, run(t, c, targetOf(t, plain.Listener.Addr()), httpCheck(conf.CheckSSL, conf.URL{Path: "/ok"})), "TLS handshake")

	// With the SSL block's CA, an unknown server certificate is refused.
	strict, err := TLSConfig(&conf.SSL{CA: writeTemp(t, "ca.pem", testCAPEM(t))})
	if err != nil {
		t.Fatal(err)
	}
	wantFail(t, run(t, &Checker{TLS: strict}, target, httpCheck(conf.CheckSSL, conf.URL{Path: "/ok"})), "TLS handshake")
	// And the server's own certificate as CA is accepted.
	own, err := TLSConfig(&conf.SSL{CA: writeTemp(t, "own.pem", certPEM(srv.Certificate().Raw))})
	if err != nil {
		t.Fatal(err)
	}
	wantOK(t, run(t, &Checker{TLS: own}, target, httpCheck(conf.CheckSSL, conf.URL{Path: "/ok"})))
}
