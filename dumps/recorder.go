package dumps

import (
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// Stats are one instance's counters, keepalived's vrrp_stats.
type Stats struct {
	AdvertRcvd        uint64
	AdvertSent        uint64
	BecomeMaster      uint64
	ReleaseMaster     uint64
	PacketLenErr      uint64
	AdvertIntervalErr uint64
	IPTTLErr          uint64
	InvalidTypeRcvd   uint64
	AddrListErr       uint64
	InvalidAuthType   uint64
	AuthTypeMismatch  uint64
	AuthFailure       uint64
	PriZeroRcvd       uint64
	PriZeroSent       uint64
	// vigil's: counters keepalived has no field for, kept for vigil
	// status (not in keepalived's dumps).
	ChecksumErr   uint64
	VersionErr    uint64
	UnicastSrcErr uint64
}

// field maps an engine counter name to its Stats field. Counters keepalived
// has no field for (version and checksum errors, unicast source errors)
// are kept for vigil status but not written in keepalived's dumps.
func (s *Stats) field(counter effects.Counter) *uint64 {
	switch counter {
	case effects.CounterAdvertReceived:
		return &s.AdvertRcvd
	case effects.CounterAdvertSent:
		return &s.AdvertSent
	case effects.CounterBecomeMaster:
		return &s.BecomeMaster
	case effects.CounterReleaseMaster:
		return &s.ReleaseMaster
	case effects.CounterPacketLengthError:
		return &s.PacketLenErr
	case effects.CounterAdvertIntervalError:
		return &s.AdvertIntervalErr
	case effects.CounterTTLError:
		return &s.IPTTLErr
	case effects.CounterInvalidType:
		return &s.InvalidTypeRcvd
	case effects.CounterAddressListError:
		return &s.AddrListErr
	case effects.CounterInvalidAuthType:
		return &s.InvalidAuthType
	case effects.CounterAuthTypeMismatch:
		return &s.AuthTypeMismatch
	case effects.CounterAuthFailure:
		return &s.AuthFailure
	case effects.CounterPriorityZeroReceived:
		return &s.PriZeroRcvd
	case effects.CounterPriorityZeroSent:
		return &s.PriZeroSent
	case effects.CounterChecksumError:
		return &s.ChecksumErr
	case effects.CounterVersionError:
		return &s.VersionErr
	case effects.CounterUnicastSourceError:
		return &s.UnicastSrcErr
	}
	return nil
}

// Recorder keeps what the dumps need that the engine's state does not
// hold: the per-instance statistics (the engine emits them as Count
// effects) and the time of each instance's last transition. Feed it every
// Step's effects, on the engine's goroutine; it is not safe for concurrent
// use.
type Recorder struct {
	stats map[string]*Stats
	last  map[string]events.Time
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder {
	return &Recorder{stats: map[string]*Stats{}, last: map[string]events.Time{}}
}

// Observe records the effects one event produced at time at.
func (r *Recorder) Observe(at events.Time, effs []effects.Effect) {
	for _, e := range effs {
		switch v := e.(type) {
		case *effects.Count:
			if p := r.get(v.Instance).field(v.Counter); p != nil && v.Delta > 0 {
				*p += uint64(v.Delta)
			}
		case *effects.StateChanged:
			r.last[v.Instance] = at
		}
	}
}

func (r *Recorder) get(name string) *Stats {
	s := r.stats[name]
	if s == nil {
		s = &Stats{}
		r.stats[name] = s
	}
	return s
}

// Keep forgets the instances not named: keepalived carries an instance's
// statistics across a reload only if the instance still exists.
func (r *Recorder) Keep(names []string) {
	keep := make(map[string]bool, len(names))
	for _, n := range names {
		keep[n] = true
	}
	for n := range r.stats {
		if !keep[n] {
			delete(r.stats, n)
		}
	}
	for n := range r.last {
		if !keep[n] {
			delete(r.last, n)
		}
	}
}

// Stats returns a copy of an instance's counters.
func (r *Recorder) Stats(name string) Stats {
	if s := r.stats[name]; s != nil {
		return *s
	}
	return Stats{}
}

// LastTransition is the time of the instance's last state change (0 if it
// has had none).
func (r *Recorder) LastTransition(name string) events.Time { return r.last[name] }

// Clear zeroes every counter (keepalived's STATS_CLEAR signal, after the
// dump is taken).
func (r *Recorder) Clear() {
	for _, s := range r.stats {
		*s = Stats{}
	}
}

// Snapshot copies the counters and transition times of the named
// instances, for formatting away from the engine's goroutine.
func (r *Recorder) Snapshot(names []string) Records {
	out := Records{Stats: make(map[string]Stats, len(names)), Last: make(map[string]events.Time, len(names))}
	for _, n := range names {
		out.Stats[n] = r.Stats(n)
		if t, ok := r.last[n]; ok {
			out.Last[n] = t
		}
	}
	return out
}

// Records are a Recorder's data for some instances, detached from it.
type Records struct {
	Stats map[string]Stats
	Last  map[string]events.Time
}
