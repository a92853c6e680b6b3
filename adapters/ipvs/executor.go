package ipvs

import (
	"fmt"

	"github.com/vigil-ha/vigil/effects"
)

// Executor applies the engine's SetIPVS effects to a Manager: the thin
// layer between the effects vocabulary and this package's types. Every
// operation is idempotent, as effects.IPVSOp requires: adding an existing
// object edits it, deleting a missing one succeeds. It implements the
// daemon's Applier, which runs it behind the kernel queue so the engine
// never waits on netlink.
type Executor struct {
	m *Manager
}

// NewExecutor returns an Executor applying effects to m.
func NewExecutor(m *Manager) *Executor { return &Executor{m: m} }

// Apply executes one effect; effects other than SetIPVS are ignored.
func (x *Executor) Apply(e effects.Effect) error {
	op, ok := e.(*effects.SetIPVS)
	if !ok {
		return nil
	}
	if op.Op == effects.IPVSFlush {
		_, err := x.m.Flush()
		return err
	}
	s, err := ServiceFromEffect(&op.Service)
	if err != nil {
		return fmt.Errorf("%w (virtual server %s)", err, op.VirtualServer)
	}
	switch op.Op {
	case effects.IPVSAddService, effects.IPVSEditService:
		_, err = x.m.EnsureService(s)
	case effects.IPVSDelService:
		_, err = x.m.RemoveService(s.Key())
	case effects.IPVSAddDest, effects.IPVSEditDest, effects.IPVSDelDest:
		var d Dest
		if d, err = DestFromEffect(&op.Dest, op.Weight); err != nil {
			break
		}
		if op.Op == effects.IPVSDelDest {
			_, err = x.m.RemoveDest(s.Key(), d.Key())
		} else {
			_, err = x.m.SetDest(s.Key(), d)
		}
	default:
		err = fmt.Errorf("ipvs: unknown IPVS operation %v", op.Op)
	}
	if err != nil {
		return fmt.Errorf("%w (virtual server %s, real server %s)", err, op.VirtualServer, op.RealServer)
	}
	return nil
}

// Reconcile is the startup step: fold the engine's SetIPVS effects so far
// into its desired table and make the kernel match it (Manager.Sync),
// removing what vigil owned and no longer wants. flush is lvs_flush.
func (x *Executor) Reconcile(effs []effects.Effect, flush bool) ([]Change, error) {
	var t Table
	for _, e := range effs {
		op, ok := e.(*effects.SetIPVS)
		if !ok {
			continue
		}
		var err error
		if t, err = Fold(t, op); err != nil {
			return nil, err
		}
	}
	return x.m.Sync(t, flush)
}
