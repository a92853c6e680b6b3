package sim

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
	"github.com/vigil-ha/vigil/events/conf"
)

// fakeEngine is a minimal VRRP-like reducer that lets the world model be
// tested without the real engine: masters advertise every interval, the
// master-down timer is 3 intervals plus skew, priority 0 means "gone".
type fakeEngine struct {
	cfg   *conf.Config
	now   events.Time
	state map[string]effects.State
	out   []effects.Effect
	// reloadChurn makes a reload send every MASTER back to BACKUP.
	reloadChurn bool
}

var _ Engine = (*fakeEngine)(nil)

func newFake() Engine { return &fakeEngine{state: map[string]effects.State{}} }

func (f *fakeEngine) Instances() []InstanceStatus {
	var out []InstanceStatus
	if f.cfg == nil {
		return nil
	}
	for _, in := range f.cfg.Instances {
		out = append(out, InstanceStatus{Name: in.Name, State: f.state[in.Name], Priority: in.Priority,
			BasePriority: in.Priority, VRID: in.VRID, Interface: in.Interface, Family: 4})
	}
	return out
}

func (f *fakeEngine) emit(e effects.Effect) { f.out = append(f.out, e) }

func (f *fakeEngine) become(in *conf.Instance, to effects.State, why string) {
	from := f.state[in.Name]
	f.state[in.Name] = to
	f.emit(&effects.StateChanged{Instance: in.Name, From: from, To: to, Priority: in.Priority, Reason: why})
	for _, a := range in.VirtualIPAddresses {
		if a.Dev == "" {
			a.Dev = in.Interface // as the engine resolves it
		}
		if to == effects.StateMaster {
			f.emit(&effects.AddAddress{Instance: in.Name, Address: a})
			f.emit(&effects.SendGARP{Instance: in.Name, Interface: in.Interface, Addr: a.Prefix.Addr(), Count: 5})
		} else if from == effects.StateMaster {
			f.emit(&effects.DelAddress{Instance: in.Name, Address: a})
		}
	}
	if to == effects.StateMaster {
		f.advert(in, in.Priority)
	} else {
		f.emit(&effects.CancelTimer{Key: "adv/" + in.Name})
		f.downTimer(in, 3)
	}
}

func (f *fakeEngine) downTimer(in *conf.Instance, n int) {
	iv := in.AdvertInt.Std()
	at := f.now.Add(time.Duration(n)*iv + skew(in.Priority, iv))
	f.emit(&effects.SetTimer{Key: "down/" + in.Name, At: at})
}

func (f *fakeEngine) advert(in *conf.Instance, prio int) {
	var addrs []netip.Addr
	for _, a := range in.VirtualIPAddresses {
		addrs = append(addrs, a.Prefix.Addr())
	}
	f.emit(&effects.SendAdvert{Instance: in.Name, Interface: in.Interface, Version: 2, VRID: uint8(in.VRID),
		Priority: uint8(prio), Interval: 100, Addrs: addrs, Dst: []netip.Addr{netip.MustParseAddr("224.0.0.18")}, TTL: 255})
	if prio > 0 {
		f.emit(&effects.SetTimer{Key: "adv/" + in.Name, At: f.now.Add(in.AdvertInt.Std())})
	}
}

func (f *fakeEngine) inst(name string) *conf.Instance {
	for i := range f.cfg.Instances {
		if f.cfg.Instances[i].Name == name {
			return &f.cfg.Instances[i]
		}
	}
	return nil
}

func (f *fakeEngine) Step(ev events.Event) []effects.Effect {
	f.out = f.out[:0]
	f.now = ev.EventTime()
	switch e := ev.(type) {
	case *events.ConfigLoaded:
		f.cfg = e.Config
		if f.reloadChurn {
			// A buggy reload: every instance starts over in BACKUP.
			for i := range f.cfg.Instances {
				if f.state[f.cfg.Instances[i].Name] == effects.StateMaster {
					f.become(&f.cfg.Instances[i], effects.StateBackup, "reload")
				}
			}
		}
	case *events.Start:
		for i := range f.cfg.Instances {
			f.become(&f.cfg.Instances[i], effects.StateBackup, "start")
		}
	case *events.Stop:
		for i := range f.cfg.Instances {
			in := &f.cfg.Instances[i]
			if f.state[in.Name] == effects.StateMaster {
				f.advert(in, 0)
				f.become(in, effects.StateStop, "stop")
			}
		}
	case *events.TimerFired:
		kind, name, _ := strings.Cut(e.Key, "/")
		in := f.inst(name)
		if in == nil {
			break // a removed instance's timer
		}
		if kind == "down" && f.state[name] == effects.StateBackup {
			f.become(in, effects.StateMaster, "master-down-timer")
		} else if kind == "adv" && f.state[name] == effects.StateMaster {
			f.advert(in, in.Priority)
		}
	case *events.AdvertReceived:
		for i := range f.cfg.Instances {
			in := &f.cfg.Instances[i]
			if in.VRID != int(e.Advert.VRID) {
				continue
			}
			p := int(e.Advert.Priority)
			switch f.state[in.Name] {
			case effects.StateMaster:
				if p > in.Priority {
					f.become(in, effects.StateBackup, "higher-priority-advert")
				}
			case effects.StateBackup:
				if p == 0 {
					f.downTimer(in, 0)
				} else if p >= in.Priority {
					f.downTimer(in, 3)
				}
			}
		}
	}
	return f.out
}

// fakeBackend loads a one-line-per-instance test format:
// `NAME vrid=N prio=P vip=ADDR/LEN [iface=eth0] [int=1s]`.
var fakeBackend = Backend{
	NewEngine:  newFake,
	LoadString: parseFakeConf,
	LoadFile: func(path string) (*conf.Config, []string, error) {
		return nil, nil, fmt.Errorf("no files in tests")
	},
}

func parseFakeConf(name, text string) (*conf.Config, []string, error) {
	c := &conf.Config{}
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		in := conf.Instance{Name: f[0], Interface: "eth0", Family: 4, Version: 2,
			AdvertInt: conf.Duration(time.Second), Priority: 100}
		for _, kv := range f[1:] {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "vrid":
				in.VRID, _ = strconv.Atoi(v)
			case "prio":
				in.Priority, _ = strconv.Atoi(v)
			case "iface":
				in.Interface = v
			case "int":
				d, _ := time.ParseDuration(v)
				in.AdvertInt = conf.Duration(d)
			case "vip":
				p, err := netip.ParsePrefix(v)
				if err != nil {
					return nil, nil, fmt.Errorf("%s: %w", name, err)
				}
				in.VirtualIPAddresses = append(in.VirtualIPAddresses, conf.Address{Prefix: p})
			}
		}
		c.Instances = append(c.Instances, in)
	}
	return c, nil, nil
}

// recorder is an engine that logs the adverts it receives.
type recorder struct {
	name string
	log  *[]string
}

func (r *recorder) Instances() []InstanceStatus { return nil }

func (r *recorder) Step(ev events.Event) []effects.Effect {
	switch e := ev.(type) {
	case *events.ConfigLoaded:
		r.name = e.Digest
	case *events.AdvertReceived:
		*r.log = append(*r.log, fmt.Sprintf("%s %s>%s", r.name, e.Src, e.Dst))
	}
	return nil
}

func unicastAdvert(dst string) *effects.SendAdvert {
	return &effects.SendAdvert{Instance: "VI_1", Interface: "eth0", Version: 2, VRID: 1, Priority: 100,
		Interval: 100, Dst: []netip.Addr{netip.MustParseAddr(dst)}, TTL: 255}
}
