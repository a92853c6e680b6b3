package replay

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/engine"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// stateView is the part of engine.MarshalState's JSON that explain reads.
// It is decoded leniently: fields the engine adds later are ignored, and
// a field it drops reads as zero.
type stateView struct {
	Config *conf.Config `json:"config"`
	VRRP   struct {
		Now       events.Time `json:"now"`
		Instances []instView  `json:"instances"`
		Scripts   []struct {
			Name   string      `json:"name"`
			Result int         `json:"result"`
			OK     bool        `json:"ok"`
			Init   bool        `json:"init"`
			RunAt  events.Time `json:"run_at"`
		} `json:"scripts"`
		Files []struct {
			Name  string `json:"name"`
			Value int64  `json:"value"`
		} `json:"files"`
		Procs []struct {
			Name  string `json:"name"`
			Count int    `json:"count"`
			Known bool   `json:"known"`
		} `json:"procs"`
		BFDs []struct {
			Name string `json:"name"`
			Up   bool   `json:"up"`
		} `json:"bfds"`
		Ifaces []struct {
			Name  string         `json:"name"`
			Known bool           `json:"known"`
			Up    bool           `json:"up"`
			Addrs []netip.Prefix `json:"addrs"`
		} `json:"ifaces"`
	} `json:"vrrp"`
}

// instView is one instance's dynamic state.
type instView struct {
	Name       string        `json:"name"`
	State      effects.State `json:"state"`
	Want       effects.State `json:"want"`
	Prio       int           `json:"prio"`
	MasterAdv  time.Duration `json:"master_adv"`
	AdvAt      events.Time   `json:"adv_at"`
	DownAt     events.Time   `json:"down_at"`
	DownWhy    string        `json:"down_why"`
	Garp2At    events.Time   `json:"garp2_at"`
	GarpLPAt   events.Time   `json:"garplp_at"`
	RefreshAt  events.Time   `json:"refresh_at"`
	PreemptAt  events.Time   `json:"preempt_at"`
	VIPSet     bool          `json:"vip_set"`
	MasterSrc  netip.Addr    `json:"master_src"`
	MasterPrio int           `json:"master_prio"`
}

// viewOf decodes an engine's state.
func viewOf(eng *engine.Engine) (*stateView, error) {
	b, err := eng.MarshalState()
	if err != nil {
		return nil, fmt.Errorf("marshal state: %w", err)
	}
	var v stateView
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("read engine state: %w", err)
	}
	return &v, nil
}

// instance returns the named instance's dynamic state and configuration.
func (v *stateView) instance(name string) (*instView, *conf.Instance) {
	var iv *instView
	for k := range v.VRRP.Instances {
		if v.VRRP.Instances[k].Name == name {
			iv = &v.VRRP.Instances[k]
		}
	}
	if v.Config == nil {
		return iv, nil
	}
	for k := range v.Config.Instances {
		if v.Config.Instances[k].Name == name {
			return iv, &v.Config.Instances[k]
		}
	}
	return iv, nil
}

// ifaceUp reports an interface's state as the engine sees it: an
// interface never reported is assumed up.
func (v *stateView) ifaceUp(name string) bool {
	for _, f := range v.VRRP.Ifaces {
		if f.Name == name {
			return !f.Known || f.Up
		}
	}
	return true
}

// Contribution is one tracked object's effect on an instance.
type Contribution struct {
	// What names the object: "track_script chk_nginx".
	What string
	// Status is its state: "OK", "KO", "up", "down", "value 5", ...
	Status string
	// Weight is the configured weight (0: the instance faults when the
	// object fails); Reverse inverts it.
	Weight  int
	Reverse bool
	// Delta is what it adds to the priority now.
	Delta int
	// Fault is set when it holds the instance in FAULT.
	Fault bool
	// Pending is set while it has not reported yet.
	Pending bool
}

// contributions computes an instance's tracking contributions and the
// effective priority they give, following the engine's rules (weights
// default to the tracked object's, a sync group without
// sync_group_tracking_weight forces them to 0, the total is clamped to
// 1..254, an address owner is always 255).
func (v *stateView) contributions(c *conf.Instance) ([]Contribution, int) {
	var out []Contribution
	base := c.Priority
	if base <= 0 {
		base = 100
	}
	base = min(base, 255)
	if !c.DontTrackPrimary && c.Interface != "" && !v.ifaceUp(c.Interface) {
		out = append(out, Contribution{What: "interface " + c.Interface + " (primary)", Status: "down", Fault: true})
	}
	var group *conf.SyncGroup
	if v.Config != nil {
		for k := range v.Config.SyncGroups {
			if v.Config.SyncGroups[k].Name == c.SyncGroup && c.SyncGroup != "" {
				group = &v.Config.SyncGroups[k]
			}
		}
	}
	zero := group != nil && !group.SyncGroupTrackingWeight
	refs := func(own, grp func(*conf.SyncGroup) []conf.TrackRef) []conf.TrackRef {
		l := own(nil)
		if group != nil {
			l = append(l, grp(group)...)
		}
		return l
	}
	total := base
	add := func(ct Contribution, ok, wait bool, r conf.TrackRef, def int, defRev bool) {
		ct.Weight, ct.Reverse = def, defRev
		if r.Weight != nil {
			ct.Weight, ct.Reverse = *r.Weight, r.Reverse
		} else if r.Reverse {
			ct.Reverse = true
		}
		if zero {
			ct.Weight = 0
		}
		ct.Weight = min(max(ct.Weight, -254), 254)
		switch {
		case wait:
			ct.Pending = true
		case ct.Weight == 0:
			ct.Fault = ok == ct.Reverse
		default:
			if (ct.Weight > 0 && ok) || (ct.Weight < 0 && !ok) {
				ct.Delta = ct.Weight
			}
			if ct.Reverse {
				ct.Delta = -ct.Delta
			}
		}
		total += ct.Delta
		out = append(out, ct)
	}
	for _, r := range refs(func(*conf.SyncGroup) []conf.TrackRef { return c.TrackInterfaces }, func(g *conf.SyncGroup) []conf.TrackRef { return g.TrackInterfaces }) {
		up := v.ifaceUp(r.Name)
		add(Contribution{What: "track_interface " + r.Name, Status: upWord(up)}, up, false, r, 0, false)
	}
	for _, r := range refs(func(*conf.SyncGroup) []conf.TrackRef { return c.TrackScripts }, func(g *conf.SyncGroup) []conf.TrackRef { return g.TrackScripts }) {
		sc, def := v.script(r.Name)
		if sc < 0 {
			continue
		}
		s := v.VRRP.Scripts[sc]
		status := "KO"
		if s.OK {
			status = "OK"
		}
		if s.Init {
			status = "not run yet"
		}
		add(Contribution{What: "track_script " + r.Name, Status: fmt.Sprintf("%s (result %d)", status, s.Result)}, s.OK, s.Init, r, def.Weight, def.WeightReverse)
	}
	for _, r := range refs(func(*conf.SyncGroup) []conf.TrackRef { return c.TrackFiles }, func(g *conf.SyncGroup) []conf.TrackRef { return g.TrackFiles }) {
		total += v.fileContribution(r, zero, &out)
	}
	for _, r := range refs(func(*conf.SyncGroup) []conf.TrackRef { return c.TrackProcesses }, func(g *conf.SyncGroup) []conf.TrackRef { return g.TrackProcesses }) {
		for _, p := range v.VRRP.Procs {
			pc, found := byName(v.Config.TrackProcesses, p.Name, func(c conf.TrackProcess) string { return c.Name })
			if p.Name != r.Name || !found {
				continue
			}
			ok := p.Count >= pc.Quorum && (pc.QuorumMax <= 0 || p.Count <= pc.QuorumMax)
			add(Contribution{What: "track_process " + r.Name, Status: fmt.Sprintf("%d running", p.Count)}, ok, !p.Known, r, pc.Weight, pc.WeightReverse)
		}
	}
	for _, r := range refs(func(*conf.SyncGroup) []conf.TrackRef { return c.TrackBFDs }, func(g *conf.SyncGroup) []conf.TrackRef { return g.TrackBFDs }) {
		for _, b := range v.VRRP.BFDs {
			bc, found := byName(v.Config.BFDInstances, b.Name, func(c conf.BFDInstance) string { return c.Name })
			if b.Name == r.Name && found {
				add(Contribution{What: "track_bfd " + r.Name, Status: upWord(b.Up)}, b.Up, false, r, bc.Weight, false)
			}
		}
	}
	prio := min(max(total, 1), 254)
	if base == 255 {
		prio = 255
	}
	return out, prio
}

// script returns the index of the named script's state and its
// configuration (-1 if unknown).
func (v *stateView) script(name string) (int, conf.VRRPScript) {
	if v.Config == nil {
		return -1, conf.VRRPScript{}
	}
	for k, s := range v.VRRP.Scripts {
		if s.Name != name {
			continue
		}
		for _, c := range v.Config.VRRPScripts {
			if c.Name == name {
				return k, c
			}
		}
	}
	return -1, conf.VRRPScript{}
}

// fileContribution appends a track_file's contribution (its value times
// the weight, or a fault) and returns the priority delta.
func (v *stateView) fileContribution(r conf.TrackRef, zero bool, out *[]Contribution) int {
	for _, f := range v.VRRP.Files {
		fc, found := byName(v.Config.TrackFiles, f.Name, func(c conf.TrackFile) string { return c.Name })
		if f.Name != r.Name || !found {
			continue
		}
		ct := Contribution{What: "track_file " + r.Name, Status: fmt.Sprintf("value %d", f.Value), Weight: fc.Weight, Reverse: fc.WeightReverse}
		if r.Weight != nil {
			ct.Weight, ct.Reverse = *r.Weight, r.Reverse
		} else if r.Reverse {
			ct.Reverse = true
		}
		if zero {
			ct.Weight = 0
		}
		ct.Weight = min(max(ct.Weight, -254), 254)
		if ct.Weight == 0 {
			ct.Fault = f.Value != 0
			*out = append(*out, ct)
			return 0
		}
		d := f.Value * int64(ct.Weight)
		if ct.Reverse {
			d = -d
		}
		if d < -253 {
			ct.Fault = true
			*out = append(*out, ct)
			return 0
		}
		ct.Delta = int(min(d, 253))
		*out = append(*out, ct)
		return ct.Delta
	}
	return 0
}

// byName returns the first element of l called name.
func byName[T any](l []T, name string, nameOf func(T) string) (T, bool) {
	for _, x := range l {
		if nameOf(x) == name {
			return x, true
		}
	}
	var zero T
	return zero, false
}
