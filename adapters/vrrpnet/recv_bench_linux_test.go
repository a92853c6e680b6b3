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
