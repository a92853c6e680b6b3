package check

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/adapters/script"
	"github.com/vigil-ha/vigil/events/conf"
)

// Target is where a check connects: connect_ip/connect_port, else the
// real server's address and port.
type Target struct {
	Addr netip.Addr
	Port int
}

func (t Target) String() string { return netip.AddrPortFrom(t.Addr, uint16(t.Port)).String() }

// Result is the outcome of one check attempt.
type Result struct {
	OK bool
	// Message says what failed ("connection refused", "HTTP status 503"),
	// or what succeeded.
	Message string
	// Dynamic is set when the check also reports a weight (MISC_CHECK
	// with misc_dynamic and an exit status of 2..255); Weight is then
	// the status minus 2.
	Dynamic bool
	Weight  int
}

func fail(format string, args ...any) Result {
	return Result{Message: fmt.Sprintf(format, args...)}
}

func success(msg string) Result { return Result{OK: true, Message: msg} }

// Checker holds what checks need beyond the checker's own block: global
// settings and credentials. The zero value works (no TLS client
// certificate, HELO name from the host name, scripts as vigil's user).
type Checker struct {
	// TLS is the SSL_GET client configuration (from the SSL block; see
	// TLSConfig). Nil means keepalived's default: no certificate, no
	// verification.
	TLS *tls.Config
	// HeloName is global_defs smtp_helo_name, the SMTP_CHECK default.
	HeloName string
	// ScriptUser and ScriptGroup are global_defs script_user: MISC_CHECK
	// scripts without their own user run as them.
	ScriptUser, ScriptGroup string
	// ScriptSecurity is enable_script_security.
	ScriptSecurity bool
}

// DefaultTimeout bounds a check whose caller gave no deadline
// (keepalived's default connect_timeout).
const DefaultTimeout = 5 * time.Second

// Check runs one attempt of the checker cfg against target. It never
// takes longer than ctx allows (DefaultTimeout when ctx has no deadline).
func (c *Checker) Check(ctx context.Context, target Target, cfg *conf.Checker) Result {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	switch cfg.Type {
	case conf.CheckTCP:
		return checkTCP(ctx, target, cfg)
	case conf.CheckHTTP, conf.CheckSSL:
		return c.checkHTTP(ctx, target, cfg)
	case conf.CheckSMTP:
		return c.checkSMTP(ctx, target, cfg)
	case conf.CheckDNS:
		return checkDNS(ctx, target, cfg)
	case conf.CheckUDP:
		return checkUDP(ctx, target, cfg)
	case conf.CheckPing:
		return checkPing(ctx, target, cfg)
	case conf.CheckMisc:
		return c.checkMisc(ctx, cfg)
	}
	return fail("%s is not run by the checker adapter", cfg.Type)
}

// dial opens a connection to target as the checker's generic options
// say: bindto/bind_port as the local address, bind_if as the device,
// fwmark as the socket mark.
func dial(ctx context.Context, network string, target Target, cfg *conf.Checker) (net.Conn, error) {
	if !target.Addr.IsValid() {
		return nil, errors.New("no address to connect to")
	}
	// No TCP keepalive: a check's connection lives for one exchange, and
	// enabling it costs several setsockopt calls per check (a tenth of a
	// TCP_CHECK's CPU at 10,000 checks a second: bench/checkers.sh).
	d := net.Dialer{Control: socketOptions(cfg), KeepAlive: -1}
	if cfg.BindTo.IsValid() || cfg.BindPort != 0 {
		local := netip.AddrPortFrom(cfg.BindTo, uint16(cfg.BindPort))
		switch network {
		case "tcp":
			d.LocalAddr = net.TCPAddrFromAddrPort(local)
		case "udp":
			d.LocalAddr = net.UDPAddrFromAddrPort(local)
		}
	}
	conn, err := d.DialContext(ctx, network, netip.AddrPortFrom(target.Addr, uint16(target.Port)).String())
	if err != nil {
		return nil, describe(err)
	}
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	return conn, nil
}

// socketOptions sets SO_BINDTODEVICE and SO_MARK before connect.
func socketOptions(cfg *conf.Checker) func(network, address string, c syscall.RawConn) error {
	if cfg.BindIf == "" && cfg.FwMark == 0 {
		return nil
	}
	return func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			if cfg.BindIf != "" {
				if serr = unix.BindToDevice(int(fd), cfg.BindIf); serr != nil {
					serr = fmt.Errorf("bind_if %s: %w", cfg.BindIf, serr)
					return
				}
			}
			if cfg.FwMark != 0 {
				if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_MARK, int(cfg.FwMark)); serr != nil {
					serr = fmt.Errorf("fwmark %d: %w", cfg.FwMark, serr)
				}
			}
		})
		if err != nil {
			return err
		}
		return serr
	}
}

// describe shortens network errors to what an operator needs: "connection
// refused", "timeout", rather than the whole dial chain.
func describe(err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return errors.New("timeout")
	case errors.Is(err, syscall.ECONNREFUSED):
		return errors.New("connection refused")
	case errors.Is(err, syscall.EHOSTUNREACH):
		return errors.New("host unreachable")
	case errors.Is(err, syscall.ENETUNREACH):
		return errors.New("network unreachable")
	case errors.Is(err, context.Canceled):
		return errors.New("cancelled")
	}
	return err
}

// identity resolves the user a MISC_CHECK script runs as.
func (c *Checker) identity(s *conf.Script) (script.Identity, error) {
	if s.User != "" {
		return script.LookupIdentity(s.User, s.Group)
	}
	return script.DefaultIdentity(c.ScriptUser, c.ScriptGroup, c.ScriptSecurity)
}
