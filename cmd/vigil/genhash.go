package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/vigil-ha/vigil/adapters/check"
	"github.com/vigil-ha/vigil/events/conf"
)

func init() {
	register("genhash", "print the MD5 digest of a URL's body for HTTP_GET/SSL_GET digest (as keepalived's genhash)", genhashDoc, runGenhash)
}

const genhashSynopsis = "genhash [-S] [-I] -s ADDRESS -p PORT -u URL [-V VIRTUALHOST] [-P 1.0|1.0C|1.1] [-t SECONDS] [-m FWMARK] [-v]"

func genhashDoc() helpDoc {
	var a genhashArgs
	return helpDoc{
		synopsis: []string{genhashSynopsis},
		text: "Fetch one URL the way an HTTP_GET or SSL_GET checker does and print the MD5 digest of its body, " +
			"the value for a url block's digest (keepalived's genhash).",
		options: flagDocs(a.flags()),
		notes:   "Exit status: 0, 1 when the server cannot be reached or sends no body, 2 on bad usage.",
	}
}

// genhashArgs are vigil genhash's options.
type genhashArgs struct {
	server, url, vhost, proto string
	port, timeout             int
	fwmark                    uint
	ssl, sni, verbose         bool
}

func (a *genhashArgs) flags() *flag.FlagSet {
	fs := flag.NewFlagSet("vigil genhash", flag.ContinueOnError)
	for _, n := range []string{"s", "server"} {
		fs.StringVar(&a.server, n, "", "remote server `ADDRESS`")
	}
	for _, n := range []string{"p", "port"} {
		fs.IntVar(&a.port, n, 0, "remote server `PORT`")
	}
	for _, n := range []string{"u", "url"} {
		fs.StringVar(&a.url, n, "", "`URL` path to fetch")
	}
	for _, n := range []string{"V", "use-virtualhost"} {
		fs.StringVar(&a.vhost, n, "", "`VIRTUALHOST` for the Host header")
	}
	for _, n := range []string{"P", "protocol"} {
		fs.StringVar(&a.proto, n, "1.0", "HTTP `PROTOCOL`: 1.0, 1.0C or 1.1")
	}
	for _, n := range []string{"t", "timeout"} {
		fs.IntVar(&a.timeout, n, 5, "timeout in `SECONDS`")
	}
	for _, n := range []string{"m", "fwmark"} {
		fs.UintVar(&a.fwmark, n, 0, "`FWMARK` for the connection")
	}
	for _, n := range []string{"S", "use-ssl"} {
		fs.BoolVar(&a.ssl, n, false, "use SSL (as SSL_GET)")
	}
	for _, n := range []string{"I", "use-sni"} {
		fs.BoolVar(&a.sni, n, false, "send SNI (the virtualhost) in the SSL handshake")
	}
	for _, n := range []string{"v", "verbose"} {
		fs.BoolVar(&a.verbose, n, false, "print the status code and body length too")
	}
	return fs
}

// runGenhash is keepalived's genhash: fetch one url the way HTTP_GET does
// and print the MD5 digest of its body, the value for a url block's
// digest. Exit status 0 on success, 1 when the server cannot be reached or
// sends no body, 2 on bad usage.
func runGenhash(args []string, stdout, stderr io.Writer) int {
	var a genhashArgs
	fs := a.flags()
	if done, code := parseFlags(fs, "genhash", args, stdout, stderr); done {
		return code
	}
	server, url, vhost, proto := a.server, a.url, a.vhost, a.proto
	port, timeout, fwmark := a.port, a.timeout, a.fwmark
	ssl, sni, verbose := a.ssl, a.sni, a.verbose
	if server == "" || port <= 0 || port > 65535 || url == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: vigil "+genhashSynopsis)
		return 2
	}
	addr, err := netip.ParseAddr(server)
	if err != nil {
		fmt.Fprintf(stderr, "vigil genhash: server %q: not an IP address\n", server)
		return 2
	}
	switch proto {
	case "1.0", "1.0C", "1.0c", "1.1":
	default:
		fmt.Fprintf(stderr, "vigil genhash: unknown HTTP protocol %q\n", proto)
		return 2
	}
	if proto == "1.0c" {
		proto = "1.0C"
	}
	cfg := &conf.Checker{Type: conf.CheckHTTP, FwMark: uint32(fwmark),
		HTTP: &conf.HTTPCheck{Protocol: proto, EnableSNI: sni, VirtualHost: vhost}}
	if ssl {
		cfg.Type = conf.CheckSSL
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(timeout)*time.Second)
	defer cancel()
	target := check.Target{Addr: addr, Port: port}
	page, err := (&check.Checker{}).Fetch(ctx, target, cfg, &conf.URL{Path: url})
	if err != nil {
		fmt.Fprintf(stderr, "vigil genhash: %s%s: %v\n", target, url, err)
		return 1
	}
	if len(page.Body) == 0 {
		fmt.Fprintln(stderr, "vigil genhash: no data received from remote webserver")
		return 1
	}
	if verbose {
		fmt.Fprintf(stdout, "status %d, %d bytes\n", page.Status, len(page.Body))
	}
	fmt.Fprintln(stdout, page.Digest)
	return 0
}
