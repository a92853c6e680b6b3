//go:build linux

package vrrpnet

import (
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// udpRawSock wraps a non-blocking UDP socket on 127.0.0.1 in a rawSock
// (recv does not care what the socket is: an AF_INET datagram socket
// takes the same receive path as a raw IPv4 one, without root) and
// returns a connected sender.
func udpRawSock(tb testing.TB) (*rawSock, *net.UDPConn) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		tb.Fatal(err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		tb.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		tb.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "bench")
	rc, err := f.SyscallConn()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f.Close() })
	s := newRawSock(f, rc)
	out, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sa.(*unix.SockaddrInet4).Port})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { out.Close() })
	return s, out
}

func TestRecvReusedBuffers(t *testing.T) {
	s, out := udpRawSock(t)
	for _, p := range []string{"first packet", "2nd"} {
		if _, err := out.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
		n, _, flags, src, err := s.recv()
		if err != nil || string(s.buf[:n]) != p || flags&unix.MSG_TRUNC != 0 || src.IsValid() {
			t.Fatalf("recv: %q flags %#x src %v err %v, want %q", s.buf[:n], flags, src, err, p)
		}
	}
	for k := range s.slots { // short buffers: the packet is truncated
		s.slots[k].buf = s.slots[k].buf[:4]
	}
	if _, err := out.Write([]byte("too long")); err != nil {
		t.Fatal(err)
	}
	if n, _, flags, _, err := s.recv(); err != nil || n != 4 || flags&unix.MSG_TRUNC == 0 {
		t.Fatalf("truncated: n %d flags %#x err %v", n, flags, err)
	}
}

// Packets queued together are taken by one system call, and each comes
// back whole and in order, in its own buffer.
func TestRecvBatch(t *testing.T) {
	s, out := udpRawSock(t)
	var want []string
	for i := range rxBatch + 3 {
		p := strings.Repeat(string(rune('a'+i)), i+1)
		want = append(want, p)
		if _, err := out.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(50 * time.Millisecond) // loopback delivers at once; be generous
	for i, p := range want {
		n, _, flags, _, err := s.recv()
		if err != nil || string(s.buf[:n]) != p || flags&unix.MSG_TRUNC != 0 {
			t.Fatalf("packet %d: %q flags %#x err %v, want %q", i, s.buf[:n], flags, err, p)
		}
		if i == 0 && s.count != rxBatch {
			t.Errorf("the first receive took %d packets, want a full batch of %d", s.count, rxBatch)
		}
	}
}

// TestRecvPausesAfterJunk: once a batch that did not fill (the queue was
// drained) and looked like a flood — it held junk (a rejected packet),
// or more than one packet, or came within junkPause of the one before —
// is used up, the reader waits junkPause before its next receive, so that
// what arrives meanwhile comes in one batch. It does not wait after a full
// batch (the queue is behind) nor after a lone packet arriving long after
// the last. The sleep is replaced: what arrives "during" it is written by
// the replacement, so the test does not depend on the clock (writes sleep
// 50 ms, far longer than junkPause, to let loopback deliver).
func TestRecvPausesAfterJunk(t *testing.T) {
	s, out := udpRawSock(t)
	write := func(n int) {
		t.Helper()
		for range n {
			if _, err := out.Write([]byte("junk")); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	var slept []time.Duration
	during := 0
	s.sleep = func(d time.Duration) {
		slept = append(slept, d)
		write(during) // the flood goes on while the reader waits
	}
	recvAll := func(n int) {
		t.Helper()
		for i := range n {
			if _, _, _, _, err := s.recv(); err != nil {
				t.Fatalf("packet %d: %v", i, err)
			}
		}
	}
	check := func(what string, pauses, count int) {
		t.Helper()
		if len(slept) != pauses || s.count != count {
			t.Fatalf("%s: slept %v, batch of %d; want %d pauses and a batch of %d", what, slept, s.count, pauses, count)
		}
		for _, d := range slept {
			if d != junkPause {
				t.Fatalf("%s: slept %v, want %v each", what, slept, junkPause)
			}
		}
	}

	write(1)
	recvAll(1)
	check("a lone packet", 0, 1)
	s.junk = true // the reader rejected it
	during = 5
	recvAll(1)
	check("after junk", 1, 5)
	recvAll(4)
	during = 1
	recvAll(1)
	check("after a batch of 5", 2, 1)

	write(1) // long after: no pause
	recvAll(1)
	check("a lone packet again", 2, 1)

	write(rxBatch + 1)
	recvAll(1)
	check("a full batch", 2, rxBatch)
	recvAll(rxBatch) // its rest, and the next batch's one packet
	check("after a full batch", 2, 1)
	recvAll(1) // that one came right after the full batch: pause
	check("after a batch close behind another", 3, 1)
}

// BenchmarkRecv is one packet written on loopback and received: "recv" is
// rawSock.recv, "xsys" the unix.Recvmsg call it replaced (a getsockopt and
// a Sockaddr allocation more per packet for AF_INET).
func BenchmarkRecv(b *testing.B) {
	pkt := make([]byte, 40)
	b.Run("recv", func(b *testing.B) {
		s, out := udpRawSock(b)
		b.ReportAllocs()
		for b.Loop() {
			out.Write(pkt)
			if _, _, _, _, err := s.recv(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("xsys", func(b *testing.B) {
		s, out := udpRawSock(b)
		b.ReportAllocs()
		for b.Loop() {
			out.Write(pkt)
			var rerr error
			err := s.rc.Read(func(fd uintptr) bool {
				_, _, _, _, rerr = unix.Recvmsg(int(fd), s.slots[0].buf, s.slots[0].oob, 0)
				return rerr != unix.EAGAIN
			})
			if err != nil || rerr != nil {
				b.Fatal(err, rerr)
			}
		}
	})
}
