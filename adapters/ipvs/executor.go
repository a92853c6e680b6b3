package ipvs

import (
	"errors"
	"fmt"

	"github.com/vigil-ha/vigil/effects"
)

// Executor applies the engine's IPVS effects to a Manager: the thin layer
// between the effects vocabulary and this package's types. SetIPVS
// operations are idempotent, as effects.IPVSOp requires: adding an
// existing object edits it, deleting a missing one succeeds.
// ReconcileIPVS, which the engine emits at a start, makes the kernel hold
// its whole table (Manager.Sync). It implements the daemon's Applier,
// which runs it behind the kernel queue, in the engine's order, so the
// engine never waits on netlink.
type Executor struct {
	m *Manager
	// OnChange, when set, is called with each change a reconciliation
	// makes to the kernel (for the log).
	OnChange func(Change)
}

// NewExecutor returns an Executor applying effects to m.
func NewExecutor(m *Manager) *Executor { return &Executor{m: m} }

// Apply executes one effect; effects other than SetIPVS, ReconcileIPVS,
// SetIPVSTimeouts and IPVSSyncDaemon are ignored.
func (x *Executor) Apply(e effects.Effect) error {
	switch v := e.(type) {
	case *effects.SetIPVS:
		return x.set(v)
	case *effects.ReconcileIPVS:
		return x.reconcile(v)
	case *effects.SetIPVSTimeouts:
		return x.timeouts(v)
	case *effects.IPVSSyncDaemon:
		return x.syncDaemon(v)
	}
	return nil
}

func (x *Executor) set(op *effects.SetIPVS) error {
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

// reconcile makes the kernel hold the effect's table, flushed first when
// it says so, removing what vigil owned and no longer wants. A service or
// destination that does not convert is left out and reported; the rest
// is reconciled all the same.
func (x *Executor) reconcile(r *effects.ReconcileIPVS) error {
	want, convErr := TableFromEffect(r.Services)
	changes, err := x.m.Sync(want, r.Flush)
	if x.OnChange != nil {
		for _, c := range changes {
			x.OnChange(c)
		}
	}
	if err != nil {
		err = fmt.Errorf("reconciling the IPVS table: %w", err)
	}
	return errors.Join(convErr, err)
}

// TableFromEffect converts a desired table as ReconcileIPVS carries it.
// A service or destination that does not convert is left out and
// reported in the error, which joins every such failure.
func TableFromEffect(svcs []effects.IPVSTableService) (Table, error) {
	var out Table
	var errs []error
	for i := range svcs {
		s := &svcs[i]
		svc, err := ServiceFromEffect(&s.Service)
		if err != nil {
			errs = append(errs, fmt.Errorf("virtual server %s: %w", s.VirtualServer, err))
			continue
		}
		for j := range s.Dests {
			d := &s.Dests[j]
			dest, err := DestFromEffect(&d.Dest, d.Weight)
			if err != nil {
				errs = append(errs, fmt.Errorf("virtual server %s, real server %s: %w", s.VirtualServer, d.RealServer, err))
				continue
			}
			svc.Dests = append(svc.Dests, dest)
		}
		out = append(out, svc)
	}
	return out, errors.Join(errs...)
}
