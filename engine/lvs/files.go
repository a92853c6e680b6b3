package lvs

import "github.com/vigil-ha/vigil/events/conf"

// FileCheck is one FILE_CHECK checker of the running configuration, with
// the IDs its CheckResult events must carry.
type FileCheck struct {
	VirtualServer, RealServer string
	// Checker is the checker's index within the real server.
	Checker int
	Spec    *conf.FileCheck
}

// FileChecks lists the FILE_CHECK checkers of the configuration, in
// configuration order. They are event driven: the adapter that watches
// their track files answers for them (see the package documentation), and
// it needs the engine's IDs, which only the compiled configuration knows
// (duplicates and unusable virtual servers are dropped there).
func (m *Machine) FileChecks() []FileCheck {
	var out []FileCheck
	if m.cp == nil {
		return nil
	}
	for _, v := range m.cp.vss {
		for _, r := range v.rss {
			for _, ck := range r.checks {
				if ck.c.Type == conf.CheckFile && ck.c.File != nil {
					out = append(out, FileCheck{VirtualServer: v.id, RealServer: r.id, Checker: ck.idx, Spec: ck.c.File})
				}
			}
		}
	}
	return out
}
