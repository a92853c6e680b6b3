package vrrp

import (
	"github.com/vigil-ha/vigil/effects"
	"github.com/vigil-ha/vigil/events"
)

// pool hands out reusable effect values. Everything taken since the last
// reset belongs to the effects returned by the current Step; reusing them
// on the next Step is what keeps the hot paths allocation-free.
type pool[T any] struct {
	items []*T
	n     int
}

func (p *pool[T]) get() *T {
	var zero T
	if p.n < len(p.items) {
		v := p.items[p.n]
		p.n++
		*v = zero
		return v
	}
	v := new(T)
	p.items = append(p.items, v)
	p.n++
	return v
}

// out collects the effects of one Step.
type out struct {
	list     []effects.Effect
	adverts  pool[effects.SendAdvert]
	counts   pool[effects.Count]
	sets     pool[effects.SetTimer]
	cancels  pool[effects.CancelTimer]
	garps    pool[effects.SendGARP]
	nas      pool[effects.SendNA]
	changes  pool[effects.StateChanged]
	addAddrs pool[effects.AddAddress]
	delAddrs pool[effects.DelAddress]
	logs     pool[effects.Log]
	runs     pool[effects.RunScript]
}

func (o *out) reset() {
	clear(o.list) // drop references so old effects do not pin memory
	o.list = o.list[:0]
	o.adverts.n, o.counts.n, o.sets.n, o.cancels.n = 0, 0, 0, 0
	o.garps.n, o.nas.n, o.changes.n, o.addAddrs.n, o.delAddrs.n = 0, 0, 0, 0, 0
	o.logs.n, o.runs.n = 0, 0
}

func (o *out) add(e effects.Effect) { o.list = append(o.list, e) }

func (o *out) count(inst, counter string) {
	c := o.counts.get()
	c.Instance, c.Counter, c.Delta = inst, counter, 1
	o.add(c)
}

func (o *out) setTimer(key string, at events.Time) {
	s := o.sets.get()
	s.Key, s.At = key, at
	o.add(s)
}

func (o *out) cancelTimer(key string) {
	c := o.cancels.get()
	c.Key = key
	o.add(c)
}

func (o *out) log(level, inst, msg string) {
	l := o.logs.get()
	l.Level, l.Instance, l.Message = level, inst, msg
	o.add(l)
}

// Counter names: keepalived's per-instance statistics (the fields of its
// stats dump and VRRP MIB), one Count effect per increment.
const (
	CountAdvertRcvd       = "advert_rcvd"
	CountAdvertSent       = "advert_sent"
	CountBecomeMaster     = "become_master"
	CountReleaseMaster    = "release_master"
	CountPacketLenErr     = "packet_len_err"
	CountIPTTLErr         = "ip_ttl_err"
	CountInvalidTypeRcvd  = "invalid_type_rcvd"
	CountAdvertIntervalEr = "advert_interval_err"
	CountAddrListErr      = "addr_list_err"
	CountInvalidAuthType  = "invalid_authtype"
	CountAuthTypeMismatch = "authtype_mismatch"
	CountAuthFailure      = "auth_failure"
	CountPriZeroRcvd      = "pri_zero_rcvd"
	CountPriZeroSent      = "pri_zero_sent"
	CountVersionErr       = "version_err"
	CountChecksumErr      = "checksum_err"
	// CountUnicastSrcErr counts unicast adverts from an address that is not
	// a unicast_peer (keepalived logs these without a counter).
	CountUnicastSrcErr = "unicast_src_err"
)
