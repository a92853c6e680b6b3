package check

import (
	"context"
	"fmt"
	"strings"

	"github.com/miekg/dns"

	"github.com/vigil-ha/vigil/events/conf"
)

// checkDNS is DNS_CHECK: one query over UDP (type, default SOA, for name,
// default "."), recursion desired; the server is up when a response with
// the query's ID arrives with RCODE NOERROR. The answer section is not
// examined, as in keepalived.
func checkDNS(ctx context.Context, target Target, cfg *conf.Checker) Result {
	qtype, name := "SOA", "."
	if cfg.DNS != nil {
		if cfg.DNS.Type != "" {
			qtype = cfg.DNS.Type
		}
		if cfg.DNS.Name != "" {
			name = cfg.DNS.Name
		}
	}
	t, ok := dns.StringToType[strings.ToUpper(qtype)]
	if !ok {
		return fail("DNS_CHECK %s: unknown query type %q", target, qtype)
	}
	conn, err := dial(ctx, "udp", target, cfg)
	if err != nil {
		return fail("DNS_CHECK %s: %v", target, err)
	}
	defer conn.Close()
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), t)
	q.RecursionDesired = true
	dc := &dns.Conn{Conn: conn}
	if err := dc.WriteMsg(q); err != nil {
		return fail("DNS_CHECK %s: sending the query: %v", target, describe(err))
	}
	for {
		// Skip stray datagrams (wrong ID, or a query echoed back), as
		// keepalived does, until the deadline set by dial.
		r, err := dc.ReadMsg()
		if err != nil {
			if r == nil {
				return fail("DNS_CHECK %s: %v", target, describe(err))
			}
			continue // malformed datagram
		}
		if r.Id != q.Id || !r.Response {
			continue
		}
		if r.Rcode != dns.RcodeSuccess {
			return fail("DNS_CHECK %s: %s %s: rcode %s", target, qtype, name, dns.RcodeToString[r.Rcode])
		}
		return success(fmt.Sprintf("DNS_CHECK %s: %s %s answered", target, qtype, name))
	}
}
