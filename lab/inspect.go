package lab

import (
	"encoding/json"
	"fmt"
	"net/netip"
)

// ipAddrJSON is the part of `ip -j addr` the lab reads.
type ipAddrJSON struct {
	IfName    string `json:"ifname"`
	Flags     []string
	OperState string `json:"operstate"`
	Address   string `json:"address"`
	AddrInfo  []struct {
		Family    string `json:"family"`
		Local     string `json:"local"`
		PrefixLen int    `json:"prefixlen"`
	} `json:"addr_info"`
}

// Addresses returns the addresses on an interface of the node.
func (n *Node) Addresses(ifname string) ([]netip.Prefix, error) {
	out, err := n.Exec("ip", "-j", "addr", "show", "dev", ifname)
	if err != nil {
		return nil, err
	}
	var links []ipAddrJSON
	if err := json.Unmarshal([]byte(out), &links); err != nil {
		return nil, fmt.Errorf("ip -j addr: %w", err)
	}
	var ps []netip.Prefix
	for _, l := range links {
		for _, a := range l.AddrInfo {
			ad, err := netip.ParseAddr(a.Local)
			if err != nil {
				continue
			}
			ps = append(ps, netip.PrefixFrom(ad, a.PrefixLen))
		}
	}
	return ps, nil
}

// HasAddress reports whether the node's eth0 holds addr (any prefix length).
// An error reading it counts as no.
func (n *Node) HasAddress(addr netip.Addr) bool {
	ps, err := n.Addresses("eth0")
	if err != nil {
		return false
	}
	for _, p := range ps {
		if p.Addr() == addr {
			return true
		}
	}
	return false
}

// Neighbour is one entry of the node's neighbour table.
type Neighbour struct {
	Dst    string   `json:"dst"`
	Dev    string   `json:"dev"`
	LLAddr string   `json:"lladdr"`
	State  []string `json:"state"`
}

// Neighbour returns the node's neighbour entry for addr, if any.
func (n *Node) Neighbour(addr netip.Addr) (Neighbour, bool) {
	out, err := n.Exec("ip", "-j", "neigh", "show", addr.String())
	if err != nil {
		return Neighbour{}, false
	}
	var ns []Neighbour
	if err := json.Unmarshal([]byte(out), &ns); err != nil || len(ns) == 0 {
		return Neighbour{}, false
	}
	return ns[0], true
}
