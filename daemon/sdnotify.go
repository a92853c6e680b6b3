package daemon

import (
	"fmt"
	"net"
	"os"
)

// SdNotify sends a state line ("READY=1", "RELOADING=1", "STOPPING=1") to
// systemd's notification socket. Debian's keepalived.service is
// Type=notify with --dont-fork; vigil run under the same unit needs this.
// Without NOTIFY_SOCKET it does nothing.
func SdNotify(state string) error {
	sock := os.Getenv("NOTIFY_SOCKET")
	if sock == "" {
		return nil
	}
	if sock[0] == '@' {
		sock = "\x00" + sock[1:] // abstract socket
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("sd_notify: %w", err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(state)); err != nil {
		return fmt.Errorf("sd_notify: %w", err)
	}
	return nil
}
