package netlink

import (
	"fmt"

	"github.com/vigil-ha/vigil/internal/rtnames"
)

// The configuration resolves the names routes, rules and addresses use
// (from iproute2's files) at load, keeping the names every system knows;
// these resolve what it kept.

// rtprotKeepalived is RTPROT_KEEPALIVED: keepalived marks the routes it adds
// with it unless the configuration names a protocol, and so does vigil.
const rtprotKeepalived = rtnames.RTProtKeepalived

// lookupName resolves a named or numeric 8-bit value.
func lookupName(what, s string, resolve func(string) (uint8, bool)) (uint8, error) {
	v, ok := resolve(s)
	if !ok {
		return 0, fmt.Errorf("unknown %s %q", what, s)
	}
	return v, nil
}
