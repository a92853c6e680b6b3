// Package wire is the subset of CBOR (RFC 8949) in which vigil's journal
// codecs are written: the events and effects codecs build on its Encoder
// and Decoder, and ConfigLoaded's configuration tree goes through its
// reflective Marshal and Unmarshal.
//
// Why CBOR, written by hand rather than through a reflective library:
//
//   - Long-term readability: a journal written today must decode in ten
//     years, by vigil or by any CBOR tool (cbor.me, `cbor2diag`). CBOR is an
//     IETF standard with a self-describing, schema-free structure.
//   - Schema evolution: every value is a map with stable keys — small
//     unsigned integers for the hot event and effect types (one byte each),
//     keepalived keyword names for the configuration tree. Zero values are
//     omitted, a decoder skips keys it does not know and leaves absent
//     fields zero, so fields can be added without bumping a version.
//   - Determinism: the encoder emits only RFC 8949 §4.2.1 core
//     deterministic encoding — shortest-form heads, definite lengths, map
//     keys in bytewise order of their encodings — so the same value always
//     yields the same bytes. (Tests check this against
//     github.com/fxamacker/cbor/v2 as an independent implementation.)
//   - Speed: the hot types are encoded by straight-line code with no
//     reflection and no intermediate maps (an AdvertReceived encodes in
//     about 100 ns), which is what lets the journal keep up with adverts.
//
// The subset: unsigned and negative integers, byte and text strings,
// arrays, maps, false/true. The decoder also skips tags, floats and
// simple values so that a newer writer's additions never break an older
// reader. Indefinite lengths are rejected.
package wire
