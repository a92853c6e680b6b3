package check

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/vigil-ha/vigil/events/conf"
)

// TLSConfig builds the SSL_GET client configuration from the SSL block.
// As in keepalived, with no ca the server's certificate is not verified
// (a health check tests the service, not its PKI); with a ca the chain
// must verify against it, but the name is not checked (servers are
// addressed by IP). certificate and key are the client's; password
// decrypts a legacy PEM-encrypted key ("Proc-Type: 4,ENCRYPTED"), not an
// encrypted PKCS#8 one.
func TLSConfig(ssl *conf.SSL) (*tls.Config, error) {
	tc := &tls.Config{InsecureSkipVerify: true}
	if ssl == nil {
		return tc, nil
	}
	if ssl.CA != "" {
		b, err := os.ReadFile(ssl.CA)
		if err != nil {
			return nil, fmt.Errorf("SSL ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("SSL ca %s: no PEM certificate", ssl.CA)
		}
		tc.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			return verifyChain(raw, pool)
		}
	}
	if ssl.Certificate != "" || ssl.Key != "" {
		cert, err := loadKeyPair(ssl)
		if err != nil {
			return nil, err
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

func verifyChain(raw [][]byte, roots *x509.CertPool) error {
	if len(raw) == 0 {
		return errors.New("server sent no certificate")
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, b := range raw {
		c, err := x509.ParseCertificate(b)
		if err != nil {
			return fmt.Errorf("server certificate: %w", err)
		}
		certs[i] = c
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
	return err
}

func loadKeyPair(ssl *conf.SSL) (tls.Certificate, error) {
	certFile, keyFile := ssl.Certificate, ssl.Key
	if keyFile == "" {
		keyFile = certFile // keepalived reads the key from the certificate file then
	}
	if certFile == "" {
		certFile = keyFile
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("SSL certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("SSL key: %w", err)
	}
	if ssl.Password != "" {
		if keyPEM, err = decryptKey(keyPEM, ssl.Password); err != nil {
			return tls.Certificate{}, err
		}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("SSL certificate and key: %w", err)
	}
	return cert, nil
}

// decryptKey decrypts the first legacy-encrypted PEM private key block.
func decryptKey(b []byte, password string) ([]byte, error) {
	for rest := b; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return b, nil // nothing encrypted: use as is
		}
		// keepalived's SSL "password" decrypts this legacy (RFC 1423) format.
		//lint:ignore SA1019 the deprecated API is the only decoder of that format
		if x509.IsEncryptedPEMBlock(block) {
			//lint:ignore SA1019 as above
			der, err := x509.DecryptPEMBlock(block, []byte(password))
			if err != nil {
				return nil, fmt.Errorf("SSL key: %w", err)
			}
			return pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: der}), nil
		}
	}
}
