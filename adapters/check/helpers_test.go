package check

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/events/conf"
)

// run checks with a short deadline and returns the result.
func run(t *testing.T, c *Checker, target Target, cfg *conf.Checker) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	r := c.Check(ctx, target, cfg)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("check took %v, beyond its deadline", d)
	}
	return r
}

func wantOK(t *testing.T, r Result) {
	t.Helper()
	if !r.OK {
		t.Fatalf("check failed: %s", r.Message)
	}
}

func wantFail(t *testing.T, r Result, substr string) {
	t.Helper()
	if r.OK {
		t.Fatalf("check succeeded (%s), want a failure containing %q", r.Message, substr)
	}
	if !strings.Contains(r.Message, substr) {
		t.Fatalf("failure %q does not mention %q", r.Message, substr)
	}
}

// targetOf turns a listener's address into a Target.
func targetOf(t *testing.T, a net.Addr) Target {
	t.Helper()
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		t.Fatal(err)
	}
	return Target{Addr: ap.Addr(), Port: int(ap.Port())}
}

// closedPort returns a loopback TCP port with nothing listening.
func closedPort(t *testing.T) Target {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tg := targetOf(t, l.Addr())
	l.Close()
	return tg
}

func contextExpired() (context.Context, context.CancelFunc) {
	return context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
}

// rawServer accepts connections on loopback and answers each with reply,
// then closes; it returns the target.
func rawServer(t *testing.T, reply string) Target {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 1024)
				c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
				c.Read(buf)
				c.Write([]byte(reply))
			}()
		}
	}()
	return targetOf(t, l.Addr())
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func certPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// testCAPEM makes a self-signed CA that signed nothing the servers use.
func testCAPEM(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "vigil test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return certPEM(der)
}

// runShort runs a check whose success is a timeout (UDP without reply).
func runShort(t *testing.T, c *Checker, target Target, cfg *conf.Checker) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	return c.Check(ctx, target, cfg)
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
