package main

import (
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// servePprof serves net/http/pprof's handlers on addr (vigil run
// --debug-pprof ADDR), for profiling a running daemon:
//
//	go tool pprof http://ADDR/debug/pprof/profile?seconds=20
//	go tool pprof http://ADDR/debug/pprof/heap
//
// Nothing listens unless the option is given. The handlers are on their
// own mux (not http.DefaultServeMux) and the listener is opened before
// the daemon starts, so a bad or busy address fails the start. There is no
// authentication: give a loopback address (the profiles show the
// configuration's names and the goroutines' stacks).
func servePprof(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with the listener
	return ln, nil
}
