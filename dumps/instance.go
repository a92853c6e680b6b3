package dumps

import (
	"time"

	"github.com/vigil-ha/vigil/engine/vrrp"
	"github.com/vigil-ha/vigil/events/conf"
)

// vmacName is the VMAC interface of an instance ("" without use_vmac).
func vmacName(i *vrrp.InstanceView) string {
	if !i.Config.UseVMAC {
		return ""
	}
	if i.Config.VMACName != "" {
		return i.Config.VMACName
	}
	return "vrrp." + itoa(i.VRID)
}

// ifpName is keepalived's vrrp->ifp: the VMAC interface when the instance
// uses one, else its interface.
func ifpName(i *vrrp.InstanceView) string {
	if n := vmacName(i); n != "" {
		return n
	}
	return i.Interface
}

// vmacBase is the interface an address's VMAC device sits on, for
// keepalived's "dev vrrp.77@eth0".
func vmacBase(i *vrrp.InstanceView, a conf.Address) string {
	if n := vmacName(i); n != "" && a.Dev == n {
		return i.Interface
	}
	if a.VMAC != "" && a.Dev == a.VMAC {
		// An address's own VMAC sits on the address's configured dev,
		// else on the instance's interface.
		for _, c := range append(append([]conf.Address{}, i.Config.VirtualIPAddresses...), i.Config.VirtualIPAddressesExcluded...) {
			if c.Prefix == a.Prefix && c.VMAC == a.VMAC && c.Dev != "" {
				return c.Dev
			}
		}
		return i.Interface
	}
	return ""
}

// authType is keepalived's auth_type: 0 none, 1 password, 2 IPSEC-AH
// (VRRPv3 has no authentication).
func authType(i *vrrp.InstanceView) int {
	if i.Version != 2 {
		return 0
	}
	switch i.Config.AuthType {
	case "PASS":
		return 1
	case "AH":
		return 2
	}
	return 0
}

// scriptConf finds a vrrp_script's command by name.
func scriptConf(v *vrrp.View, name string) *conf.Script {
	for k := range v.Scripts {
		if v.Scripts[k].Config.Name == name {
			return &v.Scripts[k].Config.Script
		}
	}
	return nil
}

// lastTransition is an instance's last transition on the wall clock; an
// instance that never changed state reports the epoch, as keepalived's
// zeroed timeval does.
func lastTransition(in *Input, name string) time.Time {
	t, ok := in.Records.Last[name]
	if !ok {
		return time.Unix(0, 0)
	}
	return in.wall(t)
}

func itoa(n int) string { return fmtInt(int64(n)) }
