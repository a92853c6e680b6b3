package effects

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/vigil-ha/vigil/internal/testfill"
	"github.com/vigil-ha/vigil/internal/wire"
)

// allKinds returns every declared effect kind, from the kind name table, so
// that a kind added to effects.go is covered here without editing the test.
func allKinds() []Kind {
	var ks []Kind
	for k, name := range kindNames {
		if name != "" {
			ks = append(ks, Kind(k))
		}
	}
	return ks
}

// zeroOf returns a zero effect of kind k through the decoder: a kind the
// decoder does not know fails the test.
func zeroOf(t testing.TB, k Kind) Effect {
	t.Helper()
	e := wire.NewEncoder(nil)
	e.AppendArrayHeader(1)
	e.AppendArrayHeader(2)
	e.AppendUint(uint64(k))
	effs, err := DecodeAll(append(e.Bytes(), 0xa0)) // [[kind, {}]]
	if err != nil {
		t.Fatalf("kind %v: %v (codec support missing?)", k, err)
	}
	if len(effs) != 1 || effs[0].EffectKind() != k {
		t.Fatalf("kind %v decoded as %v", k, effs)
	}
	return effs[0]
}

func randomEffect(t testing.TB, f *testfill.Filler, k Kind) Effect {
	e := zeroOf(t, k)
	f.Fill(e)
	return e
}

// roundTripDecoder is shared by every round trip, as by a journal's
// records, so that names shared from earlier lists are exercised.
var roundTripDecoder Decoder

func roundTrip(t *testing.T, effs []Effect) []byte {
	t.Helper()
	b, err := EncodeAll(effs)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	got, err := DecodeAll(b)
	if err != nil {
		t.Fatalf("decode %x: %v", b, err)
	}
	if got2, err := roundTripDecoder.DecodeAll(b); err != nil || !reflect.DeepEqual(got2, got) {
		t.Fatalf("Decoder.DecodeAll: %v\nwant %#v\ngot  %#v", err, got, got2)
	}
	if len(effs) == 0 && got == nil {
		return b
	}
	if !reflect.DeepEqual(got, effs) {
		t.Fatalf("round trip changed the effects\nwant %#v\ngot  %#v", effs, got)
	}
	again, _ := EncodeAll(got)
	if !bytes.Equal(again, b) {
		t.Fatalf("encoding not deterministic:\n%x\n%x", b, again)
	}
	return b
}

func TestRoundTripEveryKind(t *testing.T) {
	f := testfill.New(1)
	for _, k := range allKinds() {
		t.Run(k.String(), func(t *testing.T) {
			roundTrip(t, []Effect{zeroOf(t, k)})
			for range 50 {
				roundTrip(t, []Effect{randomEffect(t, f, k)})
			}
		})
	}
}

func TestRoundTripLists(t *testing.T) {
	f := testfill.New(2)
	kinds := allKinds()
	roundTrip(t, nil)
	for n := range 40 {
		effs := make([]Effect, n)
		for i := range effs {
			effs[i] = randomEffect(t, f, kinds[(n+i)%len(kinds)])
		}
		roundTrip(t, effs)
	}
}

// TestCoreDeterministicCBOR checks with an independent implementation that
// the encoding is well-formed CBOR in RFC 8949 core deterministic form.
func TestCoreDeterministicCBOR(t *testing.T) {
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		t.Fatal(err)
	}
	f := testfill.New(3)
	var effs []Effect
	for _, k := range allKinds() {
		for range 10 {
			effs = append(effs, randomEffect(t, f, k))
		}
	}
	b, err := EncodeAll(effs)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := cbor.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	canon, err := em.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(canon, b) {
		t.Fatal("effects encoding is not core deterministic CBOR")
	}
}

func TestDecodeErrors(t *testing.T) {
	good, err := EncodeAll([]Effect{
		&SetTimer{Key: "vrrp/VI_1/master-down", At: 3_600_000_000},
		&Count{Instance: "VI_1", Counter: "advert_rcvd", Delta: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(good) {
		if _, err := DecodeAll(good[:n]); err == nil {
			t.Fatalf("truncated to %d bytes: no error", n)
		}
	}
	cases := map[string][]byte{
		"unknown kind":   {0x81, 0x82, 0x18, 0xc8, 0xa0},
		"not a pair":     {0x81, 0x83, 0x0c, 0xa0, 0x00},
		"not an array":   {0xa0},
		"trailing":       append(append([]byte(nil), good...), 0),
		"wrong type":     {0x81, 0x82, 0x0c, 0xa1, 0x01, 0x01},
		"overflow state": {0x81, 0x82, 0x11, 0xa1, 0x02, 0x19, 0x01, 0x00},
		"deep nesting":   append([]byte{0x81, 0x82, 0x0c, 0xa1, 0x18, 0x63}, bytes.Repeat([]byte{0x81}, 200)...),
		"bad conf value": {0x81, 0x82, 0x02, 0xa1, 0x02, 0xa1, 0x67, 'a', 'd', 'd', 'r', 'e', 's', 's', 0x01},
		// Notify (kind 15) with users [["root"]]: not a [user, group] pair.
		"notify user not a pair": {0x81, 0x82, 0x0f, 0xa1, 0x0a, 0x81, 0x81, 0x64, 'r', 'o', 'o', 't'},
	}
	for name, b := range cases {
		if _, err := DecodeAll(b); err == nil || !strings.HasPrefix(err.Error(), "effects: decode") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := EncodeAll([]Effect{nil}); err == nil {
		t.Error("nil effect encoded")
	}
	if _, err := EncodeAll([]Effect{(*Log)(nil)}); err == nil {
		t.Error("nil *Log encoded")
	}
}

func FuzzDecodeEffects(f *testing.F) {
	fl := testfill.New(4)
	for _, k := range allKinds() {
		b, err := EncodeAll([]Effect{randomEffect(f, fl, k), randomEffect(f, fl, k)})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	var dec Decoder // shared across inputs: its names carry over
	f.Fuzz(func(t *testing.T, b []byte) {
		effs, err := DecodeAll(b)
		if effs2, err2 := dec.DecodeAll(b); (err == nil) != (err2 == nil) || !reflect.DeepEqual(effs, effs2) {
			t.Fatalf("Decoder.DecodeAll differs from DecodeAll: %v %#v, %v %#v", err, effs, err2, effs2)
		}
		if err != nil {
			return
		}
		b2, err := EncodeAll(effs)
		if err != nil {
			t.Fatalf("decoded %#v does not encode: %v", effs, err)
		}
		effs2, err := DecodeAll(b2)
		if err != nil {
			t.Fatalf("re-encoding %x does not decode: %v", b2, err)
		}
		b3, _ := EncodeAll(effs2)
		if !bytes.Equal(b2, b3) {
			t.Fatalf("encoding not a fixed point:\n%x\n%x", b2, b3)
		}
	})
}

// advertEffects are what the engine returns for a routine advert.
func advertEffects() []Effect {
	return []Effect{
		&SetTimer{Key: "vrrp/VI_1/master-down", At: 3_600_000_000},
		&Count{Instance: "VI_1", Counter: "advert_rcvd", Delta: 1},
	}
}

func BenchmarkEncodeAdvertEffects(b *testing.B) {
	effs := advertEffects()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = AppendEncodeAll(buf[:0], effs)
	}
	b.ReportMetric(float64(len(buf)), "bytes/list")
}

func BenchmarkDecodeAdvertEffects(b *testing.B) {
	enc, _ := EncodeAll(advertEffects())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeAll(enc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecoderAdvertEffects is BenchmarkDecodeAdvertEffects through a
// Decoder, as a journal reader decodes: names are shared, not copied.
func BenchmarkDecoderAdvertEffects(b *testing.B) {
	enc, _ := EncodeAll(advertEffects())
	var dec Decoder
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dec.DecodeAll(enc); err != nil {
			b.Fatal(err)
		}
	}
}

// Clone must not share the desired table's slices: executors keep the
// clone while the engine reuses the original.
func TestCloneReconcileIPVS(t *testing.T) {
	f := testfill.New(5)
	orig := randomEffect(t, f, KindReconcileIPVS).(*ReconcileIPVS)
	c := Clone(orig).(*ReconcileIPVS)
	if !reflect.DeepEqual(c, orig) {
		t.Fatalf("clone differs:\n%#v\n%#v", c, orig)
	}
	orig.Services[0].VirtualServer = "changed"
	orig.Services[0].Service.SchedFlags[0] = "changed"
	orig.Services[0].Dests[0].Weight = -1
	if s := c.Services[0]; s.VirtualServer == "changed" || s.Service.SchedFlags[0] == "changed" || s.Dests[0].Weight == -1 {
		t.Fatalf("clone shares the original's table: %#v", s)
	}
}
