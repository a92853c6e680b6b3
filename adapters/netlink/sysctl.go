package netlink

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/vigil-ha/vigil/effects"
)

// sysctlPath is the /proc/sys file of a per-interface setting, e.g.
// sysctlPath("ipv4", "eth0", "arp_ignore"). Interface names are used
// literally: /proc/sys does not translate dots.
func sysctlPath(family, iface, param string) string {
	return filepath.Join("/proc/sys/net", family, "conf", iface, param)
}

// readSysctl reads an integer sysctl. It must run in the target namespace.
func readSysctl(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read sysctl: %w", err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("parse sysctl %s: %w", path, err)
	}
	return v, nil
}

// writeSysctl writes an integer sysctl. It must run in the target namespace.
func writeSysctl(path string, v int) error {
	if err := os.WriteFile(path, []byte(strconv.Itoa(v)), 0o644); err != nil {
		return fmt.Errorf("write sysctl: %w", err)
	}
	return nil
}

// promoteSecondaries executes a SetPromoteSecondaries: the interface's
// IPv4 promote_secondaries sysctl, in the executor's namespace.
func (x *Executor) promoteSecondaries(e *effects.SetPromoteSecondaries) error {
	v := 0
	if e.On {
		v = 1
	}
	err := InNamespace(x.ns, func() error {
		return writeSysctl(sysctlPath("ipv4", e.Interface, "promote_secondaries"), v)
	})
	if err != nil {
		return fmt.Errorf("promote_secondaries on %s: %w", e.Interface, err)
	}
	return nil
}
