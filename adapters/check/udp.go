package check

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/vigil-ha/vigil/events/conf"
)

// checkUDP is UDP_CHECK: send the payload (random bytes when none is
// configured) on a connected UDP socket and wait until the deadline.
// Without require_reply the server is up unless an ICMP error (port or
// host unreachable, reported by the kernel on the connected socket)
// arrives; with require_reply a reply must arrive, its length within
// min_reply_length..max_reply_length, and its first bytes matching the
// reply pattern (x nibbles are don't-cares).
func checkUDP(ctx context.Context, target Target, cfg *conf.Checker) Result {
	u := cfg.UDP
	if u == nil {
		u = &conf.UDPCheck{MaxReplyLength: 255}
	}
	payload := []byte(u.Payload)
	if len(payload) == 0 {
		payload = make([]byte, 8)
		rand.Read(payload)
	}
	conn, err := dial(ctx, "udp", target, cfg)
	if err != nil {
		return fail("UDP_CHECK %s: %v", target, err)
	}
	defer conn.Close()
	if _, err := conn.Write(payload); err != nil {
		return fail("UDP_CHECK %s: send: %v", target, describe(err))
	}
	maxLen := u.MaxReplyLength
	if maxLen <= 0 {
		maxLen = 255
	}
	buf := make([]byte, maxLen+1)
	n, err := conn.Read(buf)
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) && !u.RequireReply {
			return success("UDP_CHECK " + target.String() + ": no error reported")
		}
		return fail("UDP_CHECK %s: %v", target, describe(err))
	}
	if !u.RequireReply {
		return success("UDP_CHECK " + target.String() + ": reply received")
	}
	if n < u.MinReplyLength || n > maxLen {
		return fail("UDP_CHECK %s: reply of %d bytes outside %d..%d", target, n, u.MinReplyLength, maxLen)
	}
	if ok, err := matchPattern(buf[:n], u.ReplyPattern); err != nil {
		return fail("UDP_CHECK %s: %v", target, err)
	} else if !ok {
		return fail("UDP_CHECK %s: reply %s does not match %s", target, hex.EncodeToString(buf[:min(n, 32)]), u.ReplyPattern)
	}
	return success(fmt.Sprintf("UDP_CHECK %s: reply of %d bytes matches", target, n))
}

// matchPattern compares the reply with the normalised require_reply
// pattern (pairs of hex digits, x for a don't-care nibble) over the
// shorter of the two, as keepalived does.
func matchPattern(reply []byte, pattern string) (bool, error) {
	pattern = strings.ToLower(pattern)
	if len(pattern)%2 != 0 {
		return false, fmt.Errorf("reply pattern %q has an odd number of digits", pattern)
	}
	for i := 0; i < len(pattern)/2 && i < len(reply); i++ {
		for half, shift := range []uint{4, 0} {
			c := pattern[2*i+half]
			if c == 'x' {
				continue
			}
			v, ok := hexDigit(c)
			if !ok {
				return false, fmt.Errorf("reply pattern %q: bad digit %q", pattern, c)
			}
			if (reply[i]>>shift)&0xf != v {
				return false, nil
			}
		}
	}
	return true, nil
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
