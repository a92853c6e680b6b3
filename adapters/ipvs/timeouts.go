package ipvs

import (
	"errors"
	"fmt"
	"time"

	mobyipvs "github.com/moby/ipvs"

	"github.com/vigil-ha/vigil/effects"
)

// Timeouts are IPVS's connection timeouts (ipvsadm --set): established
// TCP, TCP after FIN, and UDP.
type Timeouts struct {
	TCP, TCPFin, UDP time.Duration
}

// Timeouts reads the kernel's current timeouts.
func (m *Manager) Timeouts() (Timeouts, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.k.timeouts()
}

// SetTimeouts sets the timeouts; a zero field means the value the kernel
// had before the Manager first changed any (keepalived's rule for
// lvs_timeouts), so SetTimeouts(Timeouts{}) restores them all, and does
// nothing when nothing was changed.
func (m *Manager) SetTimeouts(t Timeouts) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.origTimeouts == nil {
		if t == (Timeouts{}) {
			return nil
		}
		orig, err := m.k.timeouts()
		if err != nil {
			return err
		}
		m.origTimeouts = &orig
	}
	o := m.origTimeouts
	want := Timeouts{TCP: or(t.TCP, o.TCP), TCPFin: or(t.TCPFin, o.TCPFin), UDP: or(t.UDP, o.UDP)}
	return m.k.setTimeouts(want)
}

func or(d, orig time.Duration) time.Duration {
	if d != 0 {
		return d
	}
	return orig
}

func (k *kernel) timeouts() (Timeouts, error) {
	c, err := k.h.GetConfig()
	if err != nil {
		return Timeouts{}, fmt.Errorf("ipvs: reading the timeouts: %w", err)
	}
	return Timeouts{TCP: c.TimeoutTCP, TCPFin: c.TimeoutTCPFin, UDP: c.TimeoutUDP}, nil
}

// setTimeouts sends all three values (the kernel leaves a zero one as it
// is, which never happens here once the originals are known).
func (k *kernel) setTimeouts(t Timeouts) error {
	if t.TCP%time.Second != 0 || t.TCPFin%time.Second != 0 || t.UDP%time.Second != 0 {
		return errors.New("ipvs: timeouts must be whole seconds")
	}
	err := k.h.SetConfig(&mobyipvs.Config{TimeoutTCP: t.TCP, TimeoutTCPFin: t.TCPFin, TimeoutUDP: t.UDP})
	if err != nil {
		return fmt.Errorf("ipvs: setting the timeouts (tcp %s, tcpfin %s, udp %s): %w", t.TCP, t.TCPFin, t.UDP, err)
	}
	return nil
}

func (x *Executor) timeouts(e *effects.SetIPVSTimeouts) error {
	return x.m.SetTimeouts(Timeouts{TCP: e.TCP, TCPFin: e.TCPFin, UDP: e.UDP})
}
