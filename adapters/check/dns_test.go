package check

import (
	"net"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/vigil-ha/vigil/events/conf"
)

// dnsServer starts a real DNS server (miekg/dns) on loopback UDP that
// answers example.org. queries and refuses everything else.
func dnsServer(t *testing.T) (Target, func() *dns.Msg) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var last *dns.Msg
	mux := dns.NewServeMux()
	mux.HandleFunc(".", func(w dns.ResponseWriter, q *dns.Msg) {
		mu.Lock()
		last = q.Copy()
		mu.Unlock()
		r := new(dns.Msg)
		r.SetReply(q)
		switch q.Question[0].Name {
		case "example.org.", ".":
			rr, _ := dns.NewRR(q.Question[0].Name + " 60 IN SOA ns.example.org. admin.example.org. 1 7200 3600 1209600 3600")
			r.Answer = append(r.Answer, rr)
		case "broken.example.org.":
			r.Rcode = dns.RcodeServerFailure
		default:
			r.Rcode = dns.RcodeRefused
		}
		w.WriteMsg(r)
	})
	srv := &dns.Server{PacketConn: pc, Handler: mux}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return targetOf(t, pc.LocalAddr()), func() *dns.Msg {
		mu.Lock()
		defer mu.Unlock()
		return last
	}
}

func TestDNSCheck(t *testing.T) {
	target, last := dnsServer(t)
	c := &Checker{}

	// keepalived's defaults: SOA for ".".
	wantOK(t, run(t, c, target, &conf.Checker{Type: conf.CheckDNS}))
	if q := last(); q == nil || q.Question[0].Name != "." || q.Question[0].Qtype != dns.TypeSOA || !q.RecursionDesired {
		t.Fatalf("query = %v", q)
	}
	wantOK(t, run(t, c, target, &conf.Checker{Type: conf.CheckDNS, DNS: &conf.DNSCheck{Type: "A", Name: "example.org"}}))
	if q := last(); q.Question[0].Name != "example.org." || q.Question[0].Qtype != dns.TypeA {
		t.Fatalf("query = %v", q)
	}
	wantFail(t, run(t, c, target, &conf.Checker{Type: conf.CheckDNS, DNS: &conf.DNSCheck{Type: "SOA", Name: "broken.example.org"}}), "SERVFAIL")
	wantFail(t, run(t, c, target, &conf.Checker{Type: conf.CheckDNS, DNS: &conf.DNSCheck{Type: "A", Name: "elsewhere.test"}}), "REFUSED")
	wantFail(t, run(t, c, target, &conf.Checker{Type: conf.CheckDNS, DNS: &conf.DNSCheck{Type: "BOGUS"}}), "unknown query type")

	// Nothing listening: the kernel's ICMP port unreachable fails the check.
	pc, _ := net.ListenPacket("udp", "127.0.0.1:0")
	dead := targetOf(t, pc.LocalAddr())
	pc.Close()
	wantFail(t, run(t, c, dead, &conf.Checker{Type: conf.CheckDNS}), "connection refused")
}
