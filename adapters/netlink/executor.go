package netlink

import (
	"errors"
	"fmt"
	"sync"

	vnl "github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/vigil-ha/vigil/effects"
)

// ErrUnsupported is returned (wrapped) by Apply for an effect this executor
// does not execute.
var ErrUnsupported = errors.New("effect not handled by the netlink executor")

// ExecutorOptions configure an Executor.
type ExecutorOptions struct {
	// Namespace is the network namespace to act in: a name under
	// /run/netns or a path. Empty means the caller's namespace.
	Namespace string
}

// Executor applies address, route, rule and VMAC effects to the kernel.
// It is safe for concurrent use; each Apply is a few synchronous netlink
// round trips.
type Executor struct {
	h  *vnl.Handle
	rt *nl.SocketHandle // routes and rules (request.go)
	ns netns.NsHandle

	mu      sync.Mutex
	vmacs   map[string]string       // IPv4 VMACs created here → parent
	parents map[string]*parentState // parents whose ARP sysctls we changed
	rp      rpFilterState
}

// NewExecutor opens a netlink handle in the configured namespace.
func NewExecutor(opts ExecutorOptions) (*Executor, error) {
	ns, err := OpenNamespace(opts.Namespace)
	if err != nil {
		return nil, err
	}
	// rtnetlink only: with no protocol listed the library also opens
	// XFRM and generic netlink sockets, and a kernel whose xfrm_user
	// module is not loaded then fails the whole handle ("protocol not
	// supported") although nothing here needs XFRM.
	h, err := vnl.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		ns.Close()
		return nil, fmt.Errorf("netlink handle: %w", err)
	}
	rt, err := rtSocket(ns)
	if err != nil {
		h.Close()
		ns.Close()
		return nil, fmt.Errorf("netlink socket: %w", err)
	}
	return &Executor{h: h, rt: rt, ns: ns, vmacs: map[string]string{}, parents: map[string]*parentState{}}, nil
}

// Apply executes one effect. Adding what exists and deleting what is gone
// succeed, so effects may be replayed.
func (x *Executor) Apply(e effects.Effect) error {
	switch v := e.(type) {
	case *effects.AddAddress:
		return x.addAddress(v.Address, v.Interface)
	case *effects.DelAddress:
		return x.delAddress(v.Address, v.Interface)
	case *effects.AddRoute:
		return x.addRoute(v.Route)
	case *effects.DelRoute:
		return x.delRoute(v.Route)
	case *effects.AddRule:
		return x.addRule(v.Rule)
	case *effects.DelRule:
		return x.delRule(v.Rule)
	case *effects.CreateVMAC:
		return x.createVMAC(v)
	case *effects.DeleteVMAC:
		return x.deleteVMAC(v)
	case *effects.SetPromoteSecondaries:
		return x.promoteSecondaries(v)
	}
	return fmt.Errorf("%s: %w", e.EffectKind(), ErrUnsupported)
}

// Close restores the global rp_filter settings changed for VMACs and
// releases the netlink handle. VMACs are left in place: the engine deletes
// them with DeleteVMAC effects on shutdown.
func (x *Executor) Close() error {
	x.mu.Lock()
	err := InNamespace(x.ns, x.restoreRPFilter)
	x.mu.Unlock()
	x.h.Close()
	x.rt.Close()
	if x.ns.IsOpen() {
		x.ns.Close()
	}
	if err != nil {
		return fmt.Errorf("restore rp_filter: %w", err)
	}
	return nil
}
