package dumps

import (
	"bufio"
	"fmt"
	"io"
)

// WriteStats writes keepalived's statistics dump (SIGUSR2,
// /tmp/keepalived.stats): every instance in configuration order, with
// keepalived 2.2.7's exact layout (it is built with VRRP authentication,
// so the Type Mismatch and Failure lines are present).
func WriteStats(w io.Writer, in *Input) error {
	b := bufio.NewWriter(w)
	for k := range in.View.Instances {
		name := in.View.Instances[k].Name
		s := in.Records.Stats[name]
		fmt.Fprintf(b, "VRRP Instance: %s\n", name)
		fmt.Fprintf(b, "  Advertisements:\n")
		fmt.Fprintf(b, "    Received: %d\n", s.AdvertRcvd)
		// keepalived keeps these three in 32-bit counters.
		fmt.Fprintf(b, "    Sent: %d\n", uint32(s.AdvertSent))
		fmt.Fprintf(b, "  Became master: %d\n", uint32(s.BecomeMaster))
		fmt.Fprintf(b, "  Released master: %d\n", uint32(s.ReleaseMaster))
		fmt.Fprintf(b, "  Packet Errors:\n")
		fmt.Fprintf(b, "    Length: %d\n", s.PacketLenErr)
		fmt.Fprintf(b, "    TTL: %d\n", s.IPTTLErr)
		fmt.Fprintf(b, "    Invalid Type: %d\n", s.InvalidTypeRcvd)
		fmt.Fprintf(b, "    Advertisement Interval: %d\n", s.AdvertIntervalErr)
		fmt.Fprintf(b, "    Address List: %d\n", s.AddrListErr)
		fmt.Fprintf(b, "  Authentication Errors:\n")
		fmt.Fprintf(b, "    Invalid Type: %d\n", uint32(s.InvalidAuthType))
		fmt.Fprintf(b, "    Type Mismatch: %d\n", uint32(s.AuthTypeMismatch))
		fmt.Fprintf(b, "    Failure: %d\n", uint32(s.AuthFailure))
		fmt.Fprintf(b, "  Priority Zero:\n")
		fmt.Fprintf(b, "    Received: %d\n", s.PriZeroRcvd)
		fmt.Fprintf(b, "    Sent: %d\n", s.PriZeroSent)
	}
	if err := b.Flush(); err != nil {
		return fmt.Errorf("stats dump: %w", err)
	}
	return nil
}
