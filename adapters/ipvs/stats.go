package ipvs

import (
	"fmt"

	mobyipvs "github.com/moby/ipvs"
)

// Counters are the kernel's traffic counters of a service or of one of
// its destinations, as ipvsadm --stats shows them. The kernel keeps the
// connection and packet counts in 32 bits: they wrap.
type Counters struct {
	Connections, PacketsIn, PacketsOut uint64
	BytesIn, BytesOut                  uint64
}

// ServiceStats is one kernel service with its counters and those of its
// destinations. Service carries no Dests.
type ServiceStats struct {
	Service Service
	Counters
	Dests []DestStats
}

// DestStats is one destination of a ServiceStats.
type DestStats struct {
	Dest Dest
	Counters
	ActiveConns, InactiveConns int
}

// Stats reads every service of the kernel's table (owned or not) with its
// counters. It uses a netlink socket of its own, so that a monitoring
// read never waits behind the table's changes, nor delays them.
func (m *Manager) Stats() ([]ServiceStats, error) {
	m.statsMu.Lock()
	defer m.statsMu.Unlock()
	if m.closed.Load() {
		return nil, fmt.Errorf("ipvs: manager closed")
	}
	if m.statsK == nil {
		// The family was resolved when the Manager opened (Open checked
		// it), so this handle does not fall back to family 0.
		k, err := openKernel(m.opts.Netns)
		if err != nil {
			return nil, err
		}
		m.statsK = k
	}
	svcs, err := m.statsK.h.GetServices()
	if err != nil {
		return nil, fmt.Errorf("ipvs: listing services: %w", err)
	}
	out := make([]ServiceStats, 0, len(svcs))
	for _, ms := range svcs {
		s, err := fromMobyService(ms)
		if err != nil {
			return nil, err
		}
		st := ServiceStats{Service: s, Counters: counters(mobyipvs.DstStats(ms.Stats))}
		dests, err := m.statsK.h.GetDestinations(ms)
		if err != nil {
			return nil, fmt.Errorf("ipvs: listing destinations of %s: %w", s.Key(), err)
		}
		for _, md := range dests {
			d, err := fromMobyDest(md)
			if err != nil {
				return nil, fmt.Errorf("ipvs: %s: %w", s.Key(), err)
			}
			st.Dests = append(st.Dests, DestStats{Dest: d, Counters: counters(md.Stats),
				ActiveConns: md.ActiveConnections, InactiveConns: md.InactiveConnections})
		}
		out = append(out, st)
	}
	return out, nil
}

func counters(s mobyipvs.DstStats) Counters {
	return Counters{Connections: uint64(s.Connections), PacketsIn: uint64(s.PacketsIn), PacketsOut: uint64(s.PacketsOut),
		BytesIn: s.BytesIn, BytesOut: s.BytesOut}
}
