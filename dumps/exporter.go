package dumps

import (
	"strings"
	"time"

	"github.com/vigil-ha/vigil/engine/vrrp"
)

// The keepalived Prometheus exporters read keepalived's dumps; vigil's
// /metrics gives the same labels from the same formatting, so that
// dashboards written for keepalived show vigil unchanged.

// IfpName is the instance's interface as the JSON dump's ifp_ifname: its
// VMAC when it uses one, else its interface.
func IfpName(i *vrrp.InstanceView) string { return ifpName(i) }

// VIPLine is one line of the data dump's "Virtual IP" list, and its first
// and third words as the exporters split it: the address (with /len
// unless a host prefix) and the device ("vrrp.51@eth0" for a VMAC).
type VIPLine struct {
	Text, Address, Dev string
}

// VIPLines lists an instance's VIPs (or, with excluded, its excluded
// VIPs) as the data dump writes them.
func VIPLines(i *vrrp.InstanceView, excluded bool) []VIPLine {
	as := i.VIPs
	if excluded {
		as = i.EVIPs
	}
	out := make([]VIPLine, 0, len(as))
	for _, a := range as {
		l := VIPLine{Text: formatAddress(a, vmacBase(i, a), i.VIPSet)}
		if f := strings.Split(l.Text, " "); len(f) >= 3 {
			l.Address, l.Dev = f[0], f[2]
		}
		out = append(out, l)
	}
	return out
}

// GARPDelay is the data dump's "Gratuitous ARP delay" (garp_master_delay,
// whole seconds).
func GARPDelay(i *vrrp.InstanceView) int64 {
	return int64(i.Config.GARPMasterDelay.Std() / time.Second)
}

// StateName is the state as the data dump writes it: INIT, BACKUP,
// MASTER, FAULT, or "unknown" (STOP and DELETED have no name there).
func StateName(i *vrrp.InstanceView) string { return stateStr(i.State) }
