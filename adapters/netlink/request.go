package netlink

import (
	"encoding/binary"
	"net/netip"

	"github.com/vishvananda/netlink/nl"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Routes and rules are built here attribute by attribute, as keepalived
// (vrrp_iproute.c, vrrp_iprule.c) and ip(8) build them, with the netlink
// library's message types: its Route and Rule types cannot say every
// option keepalived.conf can (a lock on any metric but mtu and rto_min,
// RTA_PREF, RTA_EXPIRES, per-nexthop realms, FRA_L3MDEV, a 64-bit tunnel
// id, prepend without NLM_F_EXCL).

// rtReq is one rtnetlink request: a struct rtmsg (or fib_rule_hdr, which
// has the same layout) and its attributes.
type rtReq struct {
	typ   int // RTM_NEWROUTE, RTM_DELROUTE, RTM_NEWRULE, RTM_DELRULE
	flags int // NLM_F_CREATE, NLM_F_EXCL, NLM_F_APPEND
	hdr   nl.RtMsg
	attrs []*nl.RtAttr
}

func (q *rtReq) add(typ int, data []byte) { q.attrs = append(q.attrs, nl.NewRtAttr(typ, data)) }

func (q *rtReq) u8(typ int, v uint8)   { q.add(typ, []byte{v}) }
func (q *rtReq) u32(typ int, v uint32) { q.add(typ, nl.Uint32Attr(v)) }

// addr adds an address attribute (4 or 16 bytes).
func (q *rtReq) addr(typ int, a netip.Addr) { q.add(typ, a.AsSlice()) }

// via returns the payload of an RTA_VIA: struct rtvia (family, address).
func via(a netip.Addr) []byte {
	b := make([]byte, 2, 2+16)
	binary.NativeEndian.PutUint16(b, uint16(family(a)))
	return append(b, a.AsSlice()...)
}

// rtSocket is an rtnetlink socket in the executor's namespace for the
// requests built here. nl's request execution locks it per request.
func rtSocket(ns netns.NsHandle) (*nl.SocketHandle, error) {
	s, err := nl.GetNetlinkSocketAt(ns, netns.None(), unix.NETLINK_ROUTE)
	if err != nil {
		return nil, err
	}
	if err := s.SetSendTimeout(&nl.SocketTimeoutTv); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.SetReceiveTimeout(&nl.SocketTimeoutTv); err != nil {
		s.Close()
		return nil, err
	}
	// The kernel's own words on a refusal ("Invalid dsfield (tos):
	// option not available for IPv6") go into the error.
	_ = s.SetExtAck(true)
	return &nl.SocketHandle{Socket: s}, nil
}

// exec sends a request and waits for the kernel's answer.
func (x *Executor) exec(q *rtReq) error {
	req := nl.NewNetlinkRequest(q.typ, q.flags|unix.NLM_F_ACK)
	req.Sockets = map[int]*nl.SocketHandle{unix.NETLINK_ROUTE: x.rt}
	req.AddData(&q.hdr)
	for _, a := range q.attrs {
		req.AddData(a)
	}
	_, err := req.Execute(unix.NETLINK_ROUTE, 0)
	return err
}
