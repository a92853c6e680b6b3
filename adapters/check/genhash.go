package check

import (
	"context"
	"crypto/md5"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"

	"github.com/vigil-ha/vigil/events/conf"
)

// Page is what Fetch got: the status code, the raw body (as the HTTP_GET
// digest covers it) and its MD5 digest.
type Page struct {
	Status int
	Body   []byte
	Digest string
}

// Fetch requests one url exactly as an HTTP_GET (or, with cfg.Type
// SSL_GET, SSL_GET) check does and returns the response: `vigil genhash`
// uses it so that the digest it prints is, by construction, the one the
// checker compares.
func (c *Checker) Fetch(ctx context.Context, target Target, cfg *conf.Checker, u *conf.URL) (*Page, error) {
	h := cfg.HTTP
	if h == nil {
		h = &conf.HTTPCheck{}
	}
	vhost := u.VirtualHost
	if vhost == "" {
		vhost = h.VirtualHost
	}
	conn, err := dial(ctx, "tcp", target, cfg)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if cfg.Type == conf.CheckSSL {
		tlsConn := tls.Client(conn, c.tlsConfig(h, vhost))
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			return nil, errors.New("TLS handshake: " + describe(err).Error())
		}
		conn = tlsConn
	}
	if _, err := io.WriteString(conn, request(target, h.Protocol, u.Path, vhost)); err != nil {
		return nil, describe(err)
	}
	resp, err := readResponse(conn)
	if err != nil {
		return nil, err
	}
	sum := md5.Sum(resp.body)
	return &Page{Status: resp.status, Body: resp.body, Digest: hex.EncodeToString(sum[:])}, nil
}
