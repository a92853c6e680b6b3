package check

import (
	"net"
	"testing"

	"github.com/vigil-ha/vigil/events/conf"
)

// udpEcho starts a loopback UDP server answering each datagram with
// prefix+datagram (or nothing when silent).
func udpEcho(t *testing.T, prefix []byte, silent bool) Target {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if !silent {
				pc.WriteTo(append(append([]byte(nil), prefix...), buf[:n]...), from)
			}
		}
	}()
	return targetOf(t, pc.LocalAddr())
}

func TestUDPCheck(t *testing.T) {
	c := &Checker{}
	echo := udpEcho(t, nil, false)
	silent := udpEcho(t, nil, true)
	pc, _ := net.ListenPacket("udp", "127.0.0.1:0")
	closed := targetOf(t, pc.LocalAddr())
	pc.Close()

	udp := func(u conf.UDPCheck) *conf.Checker {
		if u.MaxReplyLength == 0 {
			u.MaxReplyLength = 255
		}
		return &conf.Checker{Type: conf.CheckUDP, UDP: &u}
	}
	// No reply required: silence is success, port unreachable is not.
	wantOK(t, runShort(t, c, silent, udp(conf.UDPCheck{})))
	wantOK(t, run(t, c, echo, udp(conf.UDPCheck{Payload: []byte("ping")})))
	wantFail(t, run(t, c, closed, udp(conf.UDPCheck{})), "connection refused")

	// A reply required.
	wantFail(t, runShort(t, c, silent, udp(conf.UDPCheck{RequireReply: true})), "timeout")
	wantOK(t, run(t, c, echo, udp(conf.UDPCheck{Payload: []byte{0xab, 0x12, 0x0f}, RequireReply: true, ReplyPattern: "ab1x0f"})))
	wantFail(t, run(t, c, echo, udp(conf.UDPCheck{Payload: []byte{0xab, 0x12, 0x0f}, RequireReply: true, ReplyPattern: "ab2x"})), "does not match")
	// The pattern is compared over the shorter of reply and pattern.
	wantOK(t, run(t, c, echo, udp(conf.UDPCheck{Payload: []byte{0xab}, RequireReply: true, ReplyPattern: "abcdef"})))
	wantFail(t, run(t, c, echo, udp(conf.UDPCheck{Payload: []byte("ab"), RequireReply: true, MinReplyLength: 3})), "outside 3..255")
	wantFail(t, run(t, c, echo, udp(conf.UDPCheck{Payload: []byte("abcdef"), RequireReply: true, MaxReplyLength: 4})), "outside 0..4")
}

func TestMatchPattern(t *testing.T) {
	for _, c := range []struct {
		reply   []byte
		pattern string
		want    bool
	}{
		{[]byte{0x12, 0x34}, "1234", true},
		{[]byte{0x12, 0x34}, "1x3x", true},
		{[]byte{0x12, 0x34}, "xxx5", false},
		{[]byte{0x12}, "12ff", true},
		{[]byte{0x12, 0x34}, "", true},
	} {
		if got, err := matchPattern(c.reply, c.pattern); err != nil || got != c.want {
			t.Errorf("matchPattern(% x, %q) = %v, %v", c.reply, c.pattern, got, err)
		}
	}
	if _, err := matchPattern([]byte{1}, "1"); err == nil {
		t.Error("odd pattern accepted")
	}
}
