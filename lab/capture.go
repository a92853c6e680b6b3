package lab

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Capture is tcpdump running on the lab's bridge.
type Capture struct {
	cmd  *exec.Cmd
	path string
	done chan struct{}
}

// Packet is one captured packet: its kernel timestamp (seconds since the
// epoch, microsecond precision) and tcpdump's text for it (-e: with MACs).
type Packet struct {
	Time float64
	Text string
}

// Capture starts tcpdump -e on br0 with a BPF filter ("" for all) and
// waits until it is listening. It is stopped at cleanup if not before.
func (l *Lab) Capture(t testing.TB, filter string) *Capture {
	t.Helper()
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("lab: tcpdump not installed")
	}
	c := &Capture{path: filepath.Join(t.TempDir(), "capture.txt"), done: make(chan struct{})}
	f, err := os.Create(c.path)
	if err != nil {
		t.Fatalf("lab: %v", err)
	}
	errPath := c.path + ".err"
	ef, err := os.Create(errPath)
	if err != nil {
		t.Fatalf("lab: %v", err)
	}
	args := []string{"netns", "exec", l.Switch, "tcpdump", "-i", "br0", "-nn", "-e", "-l", "-tt", "--immediate-mode",
		"--time-stamp-precision=micro", "-Z", "root"}
	if filter != "" {
		args = append(args, filter)
	}
	c.cmd = exec.Command("ip", args...)
	c.cmd.Stdout, c.cmd.Stderr = f, ef
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("lab: tcpdump: %v", err)
	}
	go func() { c.cmd.Wait(); f.Close(); ef.Close(); close(c.done) }()
	t.Cleanup(func() { c.Stop() })
	_, ok := WaitFor(10*time.Second, func() bool {
		b, _ := os.ReadFile(errPath)
		return strings.Contains(string(b), "listening on")
	})
	if !ok {
		t.Fatalf("lab: tcpdump did not start")
	}
	return c
}

// Stop ends the capture (SIGINT, so tcpdump flushes).
func (c *Capture) Stop() {
	select {
	case <-c.done:
		return
	default:
	}
	c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
}

// Packets returns what has been captured so far.
func (c *Capture) Packets() []Packet {
	f, err := os.Open(c.path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var ps []Packet
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		ts, rest, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(ts, 64)
		if err != nil {
			continue
		}
		ps = append(ps, Packet{Time: v, Text: rest})
	}
	return ps
}

// Find returns the captured packets whose text contains every one of subs.
func (c *Capture) Find(subs ...string) []Packet {
	var out []Packet
next:
	for _, p := range c.Packets() {
		for _, s := range subs {
			if !strings.Contains(p.Text, s) {
				continue next
			}
		}
		out = append(out, p)
	}
	return out
}

// String formats packets one per line (for failure messages).
func (c *Capture) String() string {
	var b strings.Builder
	for _, p := range c.Packets() {
		fmt.Fprintf(&b, "%.6f %s\n", p.Time, p.Text)
	}
	return b.String()
}
