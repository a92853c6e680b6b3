package check

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/vigil-ha/vigil/events/conf"
)

// clientIdentity makes a self-signed client certificate and its key, the
// key PEM encrypted with password in the legacy (RFC 1423) format when
// password is not empty.
func clientIdentity(t *testing.T, password string) (certDER []byte, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "vigil checker"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	certDER, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	block := &pem.Block{Type: "EC PRIVATE KEY", Bytes: der}
	if password != "" {
		//lint:ignore SA1019 keepalived's SSL password is for this legacy format
		if block, err = x509.EncryptPEMBlock(rand.Reader, block.Type, der, []byte(password), x509.PEMCipherAES256); err != nil {
			t.Fatal(err)
		}
	}
	return certDER, writeTemp(t, "client.pem", certPEM(certDER)), writeTemp(t, "client.key", pem.EncodeToMemory(block))
}

// TestSSLClientCertificate: the SSL block's certificate and key (the key
// decrypted with password) are presented to a server that requires a
// client certificate.
func TestSSLClientCertificate(t *testing.T) {
	for _, password := range []string{"", "s3cret"} {
		certDER, certFile, keyFile := clientIdentity(t, password)
		cert, err := x509.ParseCertificate(certDER)
		if err != nil {
			t.Fatal(err)
		}
		clients := x509.NewCertPool()
		clients.AddCert(cert)
		srv := httptest.NewUnstartedServer(&webHandler{})
		srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clients}
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
		srv.StartTLS()
		target := targetOf(t, srv.Listener.Addr())
		check := httpCheck(conf.CheckSSL, conf.URL{Path: "/ok", Digest: md5hex(page)})

		withCert, err := TLSConfig(&conf.SSL{Certificate: certFile, Key: keyFile, Password: password})
		if err != nil {
			t.Fatalf("password %q: %v", password, err)
		}
		wantOK(t, run(t, &Checker{TLS: withCert}, target, check))
		if r := run(t, &Checker{}, target, check); r.OK {
			t.Errorf("password %q: a checker without the client certificate passed", password)
		}
		if password != "" {
			if _, err := TLSConfig(&conf.SSL{Certificate: certFile, Key: keyFile, Password: "wrong"}); err == nil {
				t.Errorf("a wrong password decrypted the key")
			}
			if _, err := TLSConfig(&conf.SSL{Certificate: certFile, Key: keyFile}); err == nil {
				t.Errorf("an encrypted key was used without its password")
			}
		}
		srv.Close()
	}
}
