package bfdnet

import (
	"encoding/binary"

	"github.com/vigil-ha/vigil/events"
)

// Ports of RFC 5881 and RFC 5883.
const (
	PortSingleHop = 3784
	PortMultihop  = 4784
)

// headerLen is the mandatory section's length; authLen the shortest
// authentication section.
const (
	headerLen = 24
	authLen   = 2
)

// Append appends p's encoding (RFC 5880 §4.1) to dst: the 24-byte
// mandatory section; p.Length is written as given (the engine sends 24).
// It allocates only if dst lacks the room.
func Append(dst []byte, p *events.BFDPacket) []byte {
	var b [headerLen]byte
	b[0] = p.Version<<5 | p.Diag&0x1f
	f := p.State << 6
	for i, on := range [...]bool{p.Poll, p.Final, p.CPI, p.Auth, p.Demand, p.Multipoint} {
		if on {
			f |= 0x20 >> i
		}
	}
	b[1] = f
	b[2] = p.DetectMult
	b[3] = p.Length
	binary.BigEndian.PutUint32(b[4:], p.MyDisc)
	binary.BigEndian.PutUint32(b[8:], p.YourDisc)
	binary.BigEndian.PutUint32(b[12:], p.DesiredMinTx)
	binary.BigEndian.PutUint32(b[16:], p.RequiredMinRx)
	binary.BigEndian.PutUint32(b[20:], p.RequiredMinEchoRx)
	return append(dst, b[:]...)
}

// Decode reads a control packet from a UDP payload into p and judges it:
// too short for the mandatory section, a version other than 1, a Length
// field below 24 (26 with authentication) or above the payload. Whatever
// the verdict, the fields that could be read are in p; the engine drops
// anything but BFDVerdictOK. Decode never allocates and never panics.
func Decode(b []byte, p *events.BFDPacket) events.BFDVerdict {
	*p = events.BFDPacket{}
	if len(b) < headerLen {
		return events.BFDVerdictTooShort
	}
	p.Version, p.Diag = b[0]>>5, b[0]&0x1f
	f := b[1]
	p.State = f >> 6
	p.Poll, p.Final, p.CPI = f&0x20 != 0, f&0x10 != 0, f&0x08 != 0
	p.Auth, p.Demand, p.Multipoint = f&0x04 != 0, f&0x02 != 0, f&0x01 != 0
	p.DetectMult, p.Length = b[2], b[3]
	p.MyDisc = binary.BigEndian.Uint32(b[4:])
	p.YourDisc = binary.BigEndian.Uint32(b[8:])
	p.DesiredMinTx = binary.BigEndian.Uint32(b[12:])
	p.RequiredMinRx = binary.BigEndian.Uint32(b[16:])
	p.RequiredMinEchoRx = binary.BigEndian.Uint32(b[20:])
	if p.Version != 1 {
		return events.BFDVerdictBadVersion
	}
	minLen := headerLen
	if p.Auth {
		minLen += authLen
	}
	if int(p.Length) < minLen || int(p.Length) > len(b) {
		return events.BFDVerdictBadLength
	}
	return events.BFDVerdictOK
}
