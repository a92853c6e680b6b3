package check

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/vigil-ha/vigil/events/conf"
)

// checkSMTP is SMTP_CHECK: read the 220 greeting, send HELO and expect
// 250, send QUIT and wait for any reply line, as keepalived does.
//
// Difference from keepalived: a multi-line reply ("220-..." continuation
// lines, RFC 5321) is read to its last line; keepalived reads only the
// first line and so fails servers with multi-line greetings.
func (c *Checker) checkSMTP(ctx context.Context, target Target, cfg *conf.Checker) Result {
	helo := c.HeloName
	if cfg.SMTP != nil && cfg.SMTP.HeloName != "" {
		helo = cfg.SMTP.HeloName
	}
	if helo == "" {
		if h, err := os.Hostname(); err == nil {
			helo = h
		} else {
			helo = "localhost"
		}
	}
	conn, err := dial(ctx, "tcp", target, cfg)
	if err != nil {
		return fail("SMTP_CHECK %s: connect: %v", target, err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	if code, line, err := smtpReply(br); err != nil {
		return fail("SMTP_CHECK %s: reading the greeting: %v", target, err)
	} else if code != 220 {
		return fail("SMTP_CHECK %s: bad greeting %q", target, truncate(line, 60))
	}
	if _, err := io.WriteString(conn, "HELO "+helo+"\r\n"); err != nil {
		return fail("SMTP_CHECK %s: sending HELO: %v", target, describe(err))
	}
	if code, line, err := smtpReply(br); err != nil {
		return fail("SMTP_CHECK %s: reading the HELO reply: %v", target, err)
	} else if code != 250 {
		return fail("SMTP_CHECK %s: bad HELO reply %q", target, truncate(line, 60))
	}
	if _, err := io.WriteString(conn, "QUIT\r\n"); err != nil {
		return fail("SMTP_CHECK %s: sending QUIT: %v", target, describe(err))
	}
	if _, _, err := smtpReply(br); err != nil {
		return fail("SMTP_CHECK %s: reading the QUIT reply: %v", target, err)
	}
	return success("SMTP_CHECK " + target.String() + ": HELO accepted")
}

// smtpReply reads one reply, following "NNN-" continuation lines, and
// returns its code (-1 when the line has none) and last line.
func smtpReply(br *bufio.Reader) (int, string, error) {
	for lines := 0; lines < 100; lines++ {
		line, err := br.ReadString('\n')
		if err != nil {
			if line == "" || err != io.EOF {
				return 0, "", describe(err)
			}
		}
		line = strings.TrimRight(line, "\r\n")
		if len(line) >= 4 && line[3] == '-' {
			continue
		}
		code := -1
		if len(line) >= 3 && (len(line) == 3 || line[3] == ' ') {
			if n, err := strconv.Atoi(line[:3]); err == nil {
				code = n
			}
		}
		return code, line, nil
	}
	return 0, "", fmt.Errorf("reply longer than 100 lines")
}
