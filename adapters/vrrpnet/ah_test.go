package vrrpnet

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// ahKey is the key of testdata/keepalived-2.2.7-ah.txt: auth_pass
// "s3cr3tpw", eight bytes, so no zero padding.
var ahKey = [8]byte{'s', '3', 'c', 'r', '3', 't', 'p', 'w'}

// ahCapture is one line of testdata/keepalived-2.2.7-ah.txt.
type ahCapture struct {
	kind     string // multicast, unicast or vigil-zero-key
	id       uint16
	seq      uint32
	priority uint8
	pkt      []byte
}

func ahCaptures(t testing.TB) []ahCapture {
	t.Helper()
	text, err := os.ReadFile("testdata/keepalived-2.2.7-ah.txt")
	if err != nil {
		t.Fatal(err)
	}
	var out []ahCapture
	for line := range strings.Lines(string(text)) {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) != 5 {
			t.Fatalf("bad capture line %q", line)
		}
		id, err1 := strconv.ParseUint(f[1], 10, 16)
		seq, err2 := strconv.ParseUint(f[2], 10, 32)
		prio, err3 := strconv.ParseUint(f[3], 10, 8)
		pkt, err4 := hex.DecodeString(f[4])
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			t.Fatalf("bad capture line %q", line)
		}
		out = append(out, ahCapture{f[0], uint16(id), uint32(seq), uint8(prio), pkt})
	}
	return out
}

// TestGoldenKeepalivedAH: keepalived 2.2.7's AH adverts pass vigil's
// checker, and vigil's encoder, given the advert as the engine makes it
// (AuthData zero under AH) and the wire facts of the capture (IP id, AH
// sequence, source, destination, TTL) with the auth_pass as Wire.AHKey,
// reproduces each of them byte for byte, ICV included. The advert vigil
// sent before its fix (ICV keyed with zeros) is refused.
func TestGoldenKeepalivedAH(t *testing.T) {
	keys := &DecodeOptions{AHKey: func(vrid uint8) ([8]byte, bool) { return ahKey, vrid == 51 }}
	src := netip.MustParseAddr("10.77.40.1")
	peer := netip.MustParseAddr("10.77.40.2")
	vip := netip.MustParseAddr("10.77.40.100")
	caps := ahCaptures(t)
	if len(caps) < 3 {
		t.Fatalf("%d captures", len(caps))
	}
	kinds := map[string]int{}
	for _, c := range caps {
		kinds[c.kind]++
		t.Run(c.kind+"-"+strconv.Itoa(int(c.seq)), func(t *testing.T) {
			w := &Wire{Src: src, Dst: Group4, TTL: 255, ID: c.id, AHSeq: c.seq, AHKey: ahKey}
			switch c.kind {
			case "multicast":
			case "unicast":
				w.Dst, w.TTL = peer, 64
			case "vigil-zero-key":
				w.Src = peer
			default:
				t.Fatalf("unknown kind %q", c.kind)
			}
			a := &effects.SendAdvert{Instance: "VI_1", Interface: "vahA", Version: 2, VRID: 51,
				Priority: c.priority, Interval: 100, Addrs: []netip.Addr{vip}, AuthType: AuthAH,
				Src: w.Src, Dst: []netip.Addr{w.Dst}, TTL: w.TTL}

			var ev events.AdvertReceived
			DecodeIPv4(c.pkt, &ev, keys)
			if c.kind == "vigil-zero-key" {
				if ev.Verdict != events.VerdictBadAuthAH {
					t.Fatalf("old vigil advert: verdict %v, want %v", ev.Verdict, events.VerdictBadAuthAH)
				}
				zero := &DecodeOptions{AHKey: func(uint8) ([8]byte, bool) { return [8]byte{}, true }}
				if DecodeIPv4(c.pkt, &ev, zero); ev.Verdict != events.VerdictOK {
					t.Fatalf("old vigil advert under the zero key: %v", ev.Verdict)
				}
				// Fixed, the same advert differs in its ICV only, and passes.
				got, err := AppendIPv4(nil, a, w)
				if err != nil {
					t.Fatal(err)
				}
				icv := ipv4HeaderLen + 12
				if !bytes.Equal(got[:icv], c.pkt[:icv]) || !bytes.Equal(got[icv+icvLen:], c.pkt[icv+icvLen:]) ||
					bytes.Equal(got[icv:icv+icvLen], c.pkt[icv:icv+icvLen]) {
					t.Fatalf("re-encoded\n%x\nold\n%x", got, c.pkt)
				}
				if DecodeIPv4(got, &ev, keys); ev.Verdict != events.VerdictOK {
					t.Fatalf("fixed advert: %v", ev.Verdict)
				}
				return
			}

			want := events.Advert{Version: 2, Type: 1, VRID: 51, Priority: c.priority, CountAddrs: 1,
				AuthType: AuthAH, Interval: 100, Addrs: []netip.Addr{vip}, AH: true, AHSeq: c.seq}
			if ev.Verdict != events.VerdictOK || !advertEqual(ev.Advert, want) {
				t.Fatalf("decoded %v %+v, want %+v", ev.Verdict, ev.Advert, want)
			}
			if ev.Src != w.Src || ev.Dst != w.Dst || ev.TTL != w.TTL {
				t.Fatalf("src %v dst %v ttl %d", ev.Src, ev.Dst, ev.TTL)
			}

			got, err := AppendIPv4(nil, a, w)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, c.pkt) {
				t.Fatalf("encoded\n%x\nkeepalived\n%x", got, c.pkt)
			}
			// The SendAdvert's AuthData is neither sent nor a key under AH.
			b := *a
			b.AuthData = ahKey
			if got, _ := AppendIPv4(nil, &b, w); !bytes.Equal(got, c.pkt) {
				t.Fatalf("AuthData changed an AH advert:\n%x\nkeepalived\n%x", got, c.pkt)
			}
		})
	}
	if kinds["multicast"] == 0 || kinds["unicast"] == 0 || kinds["vigil-zero-key"] != 1 {
		t.Fatalf("captures by kind: %v", kinds)
	}
}
