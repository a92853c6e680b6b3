package netlink

import (
	"errors"
	"os"
	"sort"
)

// rpFilterState remembers what clearAllRPFilter changed.
type rpFilterState struct {
	all     int            // the original all/rp_filter (0: nothing changed)
	deflt   int            // the original default/rp_filter, or -1 if untouched
	ifaces  map[string]int // interfaces whose rp_filter was raised, with the original value
	checked bool
}

// clearAllRPFilter lets a VMAC's rp_filter=0 take effect: the kernel uses
// the larger of all/rp_filter and the interface's value. Like keepalived,
// before zeroing all/rp_filter it raises default/rp_filter and every
// interface's rp_filter to the old all/ value, so no other interface
// changes behaviour. It runs once, in the executor's namespace, with mu held.
func (x *Executor) clearAllRPFilter() error {
	rp := &x.rp
	if rp.checked {
		return nil
	}
	all, err := readSysctl(sysctlPath("ipv4", "all", "rp_filter"))
	if err != nil {
		return err
	}
	rp.checked = true
	if all == 0 {
		return nil
	}
	rp.deflt = -1
	rp.ifaces = map[string]int{}
	if d, err := readSysctl(sysctlPath("ipv4", "default", "rp_filter")); err == nil && d < all {
		if err := writeSysctl(sysctlPath("ipv4", "default", "rp_filter"), all); err != nil {
			return err
		}
		rp.deflt = d
	}
	dirs, err := os.ReadDir("/proc/sys/net/ipv4/conf")
	if err != nil {
		return err
	}
	for _, d := range dirs {
		name := d.Name()
		if name == "all" || name == "default" {
			continue
		}
		v, err := readSysctl(sysctlPath("ipv4", name, "rp_filter"))
		if err != nil || v >= all {
			continue // an interface that vanished meanwhile needs nothing
		}
		if err := writeSysctl(sysctlPath("ipv4", name, "rp_filter"), all); err != nil {
			return err
		}
		rp.ifaces[name] = v
	}
	if err := writeSysctl(sysctlPath("ipv4", "all", "rp_filter"), 0); err != nil {
		return err
	}
	rp.all = all
	return nil
}

// restoreRPFilter undoes clearAllRPFilter where nobody changed the values
// since. It runs in the executor's namespace with mu held.
func (x *Executor) restoreRPFilter() error {
	rp := &x.rp
	if rp.all == 0 {
		return nil
	}
	var errs []error
	restore := func(iface string, from, to int) {
		p := sysctlPath("ipv4", iface, "rp_filter")
		if v, err := readSysctl(p); err == nil && v == from {
			if err := writeSysctl(p, to); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	restore("all", 0, rp.all)
	if rp.deflt >= 0 {
		restore("default", rp.all, rp.deflt)
	}
	names := make([]string, 0, len(rp.ifaces))
	for n := range rp.ifaces {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		restore(n, rp.all, rp.ifaces[n])
	}
	*rp = rpFilterState{}
	return errors.Join(errs...)
}
