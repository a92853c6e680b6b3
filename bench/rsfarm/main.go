// Command rsfarm is the real-server farm of bench/checkers.sh: it listens
// on many loopback addresses (one per real server), runs a health-checking
// daemon against them, takes servers down one after another and measures
// how long the daemon takes to change their IPVS weight, reading the
// kernel's table back over generic netlink.
//
//	rsfarm conf -check tcp|http -vs 100 -rs 100 > keepalived.conf
//	rsfarm run -check tcp -vs 100 -rs 100 -name vigil -- /vigil run -n -l -f keepalived.conf
//
// Layout: virtual server v (1..vs) is 10.77.200.v:80, its real server r
// (1..rs) is 10.77.v.r:8080. Each real server is its own listener; a
// server "goes down" when its listener is closed (connections are then
// refused), and comes back when it is opened again. HTTP servers answer
// every request with the same body, whose MD5 digest `conf` writes into
// the HTTP_GET checkers.
//
// `run` adds the addresses to lo (one /32 each; -addrs=false when they
// are already there), flushes the IPVS table, starts the daemon as its
// child (output to -log), waits until every service has all its real
// servers, lets it settle (-warm), then for -window: counts the
// connections the servers accept (checks per second, as the servers see
// them), samples the daemon's CPU (utime+stime of it and its descendants)
// and, every -every, closes one more real server's listener and polls
// its service's destinations until its weight is 0 or it is gone (the
// detection delay), then reopens it and waits for the weight to come back
// (the recovery delay). It prints one RESULT line and stops the daemon
// (SIGTERM). With -ipvs=false (a kernel without IPVS) it measures checks
// per second, CPU and RSS only.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/moby/ipvs"
	"github.com/vishvananda/netlink"
)

// body is what every HTTP real server answers.
const body = "rsfarm: a real server of bench/checkers.sh\n"

const (
	vsPort = 80
	rsPort = 8080
)

func vsAddr(v int) netip.Addr    { return netip.AddrFrom4([4]byte{10, 77, 200, byte(v)}) }
func rsAddr(v, r int) netip.Addr { return netip.AddrFrom4([4]byte{10, 77, byte(v), byte(r)}) }

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: rsfarm conf|run [flags] [-- command...]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "conf":
		err = confCmd(os.Args[2:])
	case "run":
		err = runCmd(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rsfarm:", err)
		os.Exit(1)
	}
}

type sizes struct {
	vs, rs int
	check  string
}

func (s *sizes) flags(fs *flag.FlagSet) {
	fs.IntVar(&s.vs, "vs", 100, "virtual servers (at most 199)")
	fs.IntVar(&s.rs, "rs", 100, "real servers per virtual server (at most 250)")
	fs.StringVar(&s.check, "check", "tcp", "tcp (TCP_CHECK) or http (HTTP_GET with a digest)")
}

func (s *sizes) valid() error {
	if s.vs < 1 || s.vs > 199 || s.rs < 1 || s.rs > 250 {
		return fmt.Errorf("-vs %d -rs %d: need 1..199 and 1..250", s.vs, s.rs)
	}
	if s.check != "tcp" && s.check != "http" {
		return fmt.Errorf("-check %q: tcp or http", s.check)
	}
	return nil
}

func confCmd(args []string) error {
	var s sizes
	fs := flag.NewFlagSet("conf", flag.ExitOnError)
	s.flags(fs)
	delay := fs.String("delay-loop", "1", "delay_loop")
	timeout := fs.String("connect-timeout", "1", "connect_timeout")
	fs.Parse(args)
	if err := s.valid(); err != nil {
		return err
	}
	sum := md5.Sum([]byte(body))
	digest := hex.EncodeToString(sum[:])
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(w, "# bench/checkers.sh: %d virtual servers x %d real servers, %s checks\n", s.vs, s.rs, s.check)
	fmt.Fprintf(w, "global_defs {\n    router_id rsfarm\n}\n")
	for v := 1; v <= s.vs; v++ {
		fmt.Fprintf(w, "virtual_server %s %d {\n    delay_loop %s\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n", vsAddr(v), vsPort, *delay)
		for r := 1; r <= s.rs; r++ {
			fmt.Fprintf(w, "    real_server %s %d {\n        weight 1\n        inhibit_on_failure\n", rsAddr(v, r), rsPort)
			if s.check == "tcp" {
				fmt.Fprintf(w, "        TCP_CHECK {\n            connect_timeout %s\n            retry 0\n        }\n", *timeout)
			} else {
				fmt.Fprintf(w, "        HTTP_GET {\n            url {\n                path /\n                digest %s\n            }\n            connect_timeout %s\n            retry 0\n        }\n", digest, *timeout)
			}
			fmt.Fprintf(w, "    }\n")
		}
		fmt.Fprintf(w, "}\n")
	}
	return w.Flush()
}

// server is one real server's listener.
type server struct {
	addr string
	mu   sync.Mutex
	ln   net.Listener
}

type farm struct {
	http     bool
	accepted atomic.Int64
}

func (f *farm) open(s *server) error {
	ln, err := net.Listen("tcp4", s.addr)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	go f.serve(ln)
	return nil
}

func (f *farm) close(s *server) {
	s.mu.Lock()
	ln := s.ln
	s.ln = nil
	s.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
}

func (f *farm) serve(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // EMFILE and the like: keep serving
		}
		f.accepted.Add(1)
		if !f.http {
			c.Close()
			continue
		}
		go answer(c)
	}
}

var response = []byte("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
	strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n" + body)

// answer reads one request's head and sends the fixed response.
func answer(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 2048)
	n := 0
	for {
		m, err := c.Read(buf[n:])
		n += m
		if bytes.Contains(buf[:n], []byte("\r\n\r\n")) {
			break
		}
		if err != nil || n == len(buf) {
			return
		}
	}
	c.Write(response)
}

type victim struct {
	v, r       int
	down       time.Time // listener closed
	detected   time.Duration
	up         time.Time // listener reopened
	recovered  time.Duration
	state      int // 0 waiting for weight 0, 1 waiting for weight > 0, 2 done, 3 missed
	srv        *server
	missedWhat string
}

func runCmd(args []string) error {
	var s sizes
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	s.flags(fs)
	name := fs.String("name", "daemon", "the daemon's name in the RESULT line")
	addrs := fs.Bool("addrs", true, "add the real servers' addresses to lo")
	useIPVS := fs.Bool("ipvs", true, "read the IPVS table back (false on a kernel without IPVS: no detection delays)")
	warm := fs.Duration("warm", 5*time.Second, "settling time once the table is complete")
	window := fs.Duration("window", 30*time.Second, "measurement window")
	every := fs.Duration("every", 200*time.Millisecond, "a server goes down this often during the window")
	poll := fs.Duration("poll", 10*time.Millisecond, "IPVS polling interval")
	giveUp := fs.Duration("give-up", 15*time.Second, "a victim not detected within this is counted as missed")
	readyTimeout := fs.Duration("ready-timeout", 180*time.Second, "how long the daemon may take to fill the table")
	logPath := fs.String("log", "", "the daemon's output (default /tmp/NAME.log)")
	pprofURL := fs.String("pprof", "", "during the window, fetch a CPU profile from this base URL (http://127.0.0.1:6060) and print it base64 between PPROF markers")
	delayLoop := fs.Duration("delay-loop", time.Second, "the configured delay_loop (for the configured rate)")
	fs.Parse(args)
	if err := s.valid(); err != nil {
		return err
	}
	cmdArgs := fs.Args()
	if len(cmdArgs) == 0 {
		return errors.New("run: no daemon command after the flags")
	}
	if *logPath == "" {
		*logPath = filepath.Join(os.TempDir(), *name+".log")
	}
	n := s.vs * s.rs
	raiseNoFile(n + 4096)

	if *addrs {
		if err := addAddrs(s.vs, s.rs); err != nil {
			return err
		}
	}
	f := &farm{http: s.check == "http"}
	servers := make([][]*server, s.vs+1)
	for v := 1; v <= s.vs; v++ {
		servers[v] = make([]*server, s.rs+1)
		for r := 1; r <= s.rs; r++ {
			srv := &server{addr: netip.AddrPortFrom(rsAddr(v, r), rsPort).String()}
			if err := f.open(srv); err != nil {
				return fmt.Errorf("listen %s: %w", srv.addr, err)
			}
			servers[v][r] = srv
		}
	}

	var h *ipvs.Handle
	if *useIPVS {
		var err error
		if h, err = ipvs.New(""); err != nil {
			return fmt.Errorf("ipvs: %w", err)
		}
		defer h.Close()
		if err := h.Flush(); err != nil {
			return fmt.Errorf("ipvs flush: %w", err)
		}
	}

	logf, err := os.Create(*logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(cmdArgs[0], cmdArgs[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", cmdArgs[0], err)
	}
	childPid = cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}()

	if h != nil {
		deadline := time.Now().Add(*readyTimeout)
		for {
			ok, have := tableComplete(h, s.vs, s.rs)
			if ok {
				break
			}
			select {
			case err := <-exited:
				return fmt.Errorf("%s exited before the table was complete (%v); see %s", *name, err, *logPath)
			default:
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s: IPVS table incomplete after %v (%d of %d real servers up)", *name, *readyTimeout, have, n)
			}
			time.Sleep(100 * time.Millisecond)
		}
		fmt.Printf("rsfarm: %s: table complete (%d services x %d) after %.1f s\n", *name, s.vs, s.rs, time.Since(start).Seconds())
	}
	time.Sleep(*warm)

	pid := cmd.Process.Pid
	cpu0, t0 := treeCPU(pid), time.Now()
	acc0 := f.accepted.Load()
	self0 := selfCPU()

	profDone := make(chan []byte, 1)
	if *pprofURL != "" {
		go func() {
			secs := int(window.Seconds()) - 1
			if secs < 1 {
				secs = 1
			}
			b, err := fetch(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", *pprofURL, secs))
			if err != nil {
				fmt.Fprintln(os.Stderr, "rsfarm: pprof:", err)
			}
			profDone <- b
		}()
	}

	var victims []*victim
	if h != nil {
		victims = runVictims(h, f, servers, s.vs, s.rs, *window, *every, *poll, *giveUp)
	} else {
		time.Sleep(*window)
	}
	// runVictims returns after the window plus the time the last
	// victims took; it sampled the CPU and checks at the window's end.

	select {
	case err := <-exited:
		return fmt.Errorf("%s exited during the measurement (%v); see %s", *name, err, *logPath)
	default:
	}
	res := windowSample.get()
	if res.at.IsZero() {
		res = sample{at: time.Now(), cpu: treeCPU(pid), acc: f.accepted.Load(), self: selfCPU()}
	}
	el := res.at.Sub(t0).Seconds()
	rss := treeRSS(pid)
	checks := float64(res.acc-acc0) / el
	cpuPct := float64(res.cpu-cpu0) / clkTck / el * 100
	farmPct := float64(res.self-self0) / clkTck / el * 100

	var det, rec []float64
	missed := 0
	for _, vi := range victims {
		switch vi.state {
		case 2:
			det = append(det, ms(vi.detected))
			rec = append(rec, ms(vi.recovered))
		case 1:
			det = append(det, ms(vi.detected))
			missed++
		default:
			missed++
		}
	}
	fmt.Printf("RESULT name=%s check=%s servers=%d configured=%.0f/s checks=%.0f/s cpu=%.1f%% rss=%.1fMB farm_cpu=%.1f%% window=%.1fs",
		*name, s.check, n, float64(n)/delayLoop.Seconds(), checks, cpuPct, float64(rss)/1e6, farmPct, el)
	if h != nil {
		fmt.Printf(" victims=%d missed=%d down_p50=%.0fms down_p99=%.0fms down_max=%.0fms up_p50=%.0fms up_p99=%.0fms",
			len(victims), missed, pct(det, 50), pct(det, 99), pct(det, 100), pct(rec, 50), pct(rec, 99))
	}
	fmt.Println()
	if *pprofURL != "" {
		if b := <-profDone; len(b) > 0 {
			fmt.Printf("PPROF-BEGIN %s\n", *name)
			enc := base64.StdEncoding.EncodeToString(b)
			for len(enc) > 0 {
				k := min(len(enc), 76)
				fmt.Println(enc[:k])
				enc = enc[k:]
			}
			fmt.Printf("PPROF-END %s\n", *name)
		}
	}
	return nil
}

// sample is the counters at the end of the window, taken by runVictims
// (which is busy polling then).
type sample struct {
	at        time.Time
	cpu, self int64
	acc       int64
}

type sampleBox struct {
	mu sync.Mutex
	s  sample
}

func (b *sampleBox) set(s sample) { b.mu.Lock(); b.s = s; b.mu.Unlock() }
func (b *sampleBox) get() sample  { b.mu.Lock(); defer b.mu.Unlock(); return b.s }

var windowSample sampleBox

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func pct(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return -1
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	i = max(0, min(i, len(s)-1))
	return s[i]
}

// runVictims takes a server down every `every` during the window and
// follows each until its weight is back.
func runVictims(h *ipvs.Handle, f *farm, servers [][]*server, nvs, nrs int, window, every, poll, giveUp time.Duration) []*victim {
	// A deterministic spread: consecutive victims on different virtual
	// servers, at different real servers.
	order := func(i int) (int, int) {
		v := i%nvs + 1
		r := (i*37)%nrs + 1
		return v, r
	}
	var all, open []*victim
	start := time.Now()
	end := start.Add(window)
	next := start
	i := 0
	sampled := false
	busy := map[[2]int]bool{}
	for {
		now := time.Now()
		if !sampled && !now.Before(end) {
			windowSample.set(sample{at: now, cpu: treeCPU(childPid), acc: f.accepted.Load(), self: selfCPU()})
			sampled = true
		}
		if now.Before(end) && !now.Before(next) {
			v, r := order(i)
			i++
			next = next.Add(every)
			if busy[[2]int{v, r}] {
				continue // still down or coming back: not twice at once
			}
			busy[[2]int{v, r}] = true
			vi := &victim{v: v, r: r, srv: servers[v][r]}
			f.close(vi.srv)
			vi.down = time.Now()
			all = append(all, vi)
			open = append(open, vi)
		}
		if sampled && len(open) == 0 {
			return all
		}
		// One netlink dump per virtual server with a victim in flight.
		byVS := map[int][]*ipvs.Destination{}
		for _, vi := range open {
			if _, ok := byVS[vi.v]; ok {
				continue
			}
			ds, err := h.GetDestinations(service(vi.v))
			if err != nil {
				ds = nil
			}
			byVS[vi.v] = ds
		}
		seen := time.Now()
		kept := open[:0]
		for _, vi := range open {
			w, present := weightOf(byVS[vi.v], rsAddr(vi.v, vi.r))
			switch vi.state {
			case 0:
				if !present || w == 0 {
					vi.detected = seen.Sub(vi.down)
					vi.state = 1
					if err := f.open(vi.srv); err != nil {
						fmt.Fprintf(os.Stderr, "rsfarm: reopen %s: %v\n", vi.srv.addr, err)
					}
					vi.up = time.Now()
				} else if seen.Sub(vi.down) > giveUp {
					vi.state = 3
					f.open(vi.srv)
				}
			case 1:
				if present && w > 0 {
					vi.recovered = seen.Sub(vi.up)
					vi.state = 2
				} else if seen.Sub(vi.up) > giveUp {
					vi.state = 4 // detected, never recovered: missed
				}
			}
			if vi.state < 2 {
				kept = append(kept, vi)
			} else {
				delete(busy, [2]int{vi.v, vi.r})
			}
		}
		open = kept
		time.Sleep(poll)
	}
}

// childPid is the daemon's pid, for runVictims' sample.
var childPid int

func service(v int) *ipvs.Service {
	return &ipvs.Service{AddressFamily: syscall.AF_INET, Protocol: syscall.IPPROTO_TCP, Address: vsAddr(v).AsSlice(), Port: vsPort}
}

func weightOf(ds []*ipvs.Destination, a netip.Addr) (int, bool) {
	for _, d := range ds {
		if d.Port == rsPort && d.Address.Equal(a.AsSlice()) {
			return d.Weight, true
		}
	}
	return 0, false
}

// tableComplete reports whether every service has every real server
// with a weight, and how many real servers are up.
func tableComplete(h *ipvs.Handle, nvs, nrs int) (bool, int) {
	up := 0
	for v := 1; v <= nvs; v++ {
		ds, err := h.GetDestinations(service(v))
		if err != nil {
			continue
		}
		for _, d := range ds {
			if d.Weight > 0 {
				up++
			}
		}
	}
	return up == nvs*nrs, up
}

func addAddrs(nvs, nrs int) error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("lo: %w", err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return fmt.Errorf("lo up: %w", err)
	}
	for v := 1; v <= nvs; v++ {
		for r := 1; r <= nrs; r++ {
			a := rsAddr(v, r)
			err := netlink.AddrAdd(lo, &netlink.Addr{IPNet: &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(32, 32)}})
			if err != nil && !errors.Is(err, syscall.EEXIST) {
				return fmt.Errorf("add %s to lo: %w", a, err)
			}
		}
	}
	return nil
}

func raiseNoFile(n int) {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) != nil {
		return
	}
	if l.Max < uint64(n) {
		l.Max = uint64(n)
	}
	if l.Cur < uint64(n) {
		l.Cur = uint64(n)
	}
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
}

// clkTck is USER_HZ, the unit of /proc/PID/stat's times (100 on Linux).
const clkTck = 100

// treeCPU is utime+stime of pid and its descendants, in clock ticks.
func treeCPU(pid int) int64 {
	var sum int64
	for _, p := range tree(pid) {
		f := statFields(p)
		if len(f) > 14 {
			u, _ := strconv.ParseInt(f[13], 10, 64)
			s, _ := strconv.ParseInt(f[14], 10, 64)
			sum += u + s
		}
	}
	return sum
}

func selfCPU() int64 {
	f := statFields(os.Getpid())
	if len(f) > 14 {
		u, _ := strconv.ParseInt(f[13], 10, 64)
		s, _ := strconv.ParseInt(f[14], 10, 64)
		return u + s
	}
	return 0
}

// treeRSS is the sum of VmRSS of pid and its descendants, in bytes.
func treeRSS(pid int) int64 {
	var sum int64
	for _, p := range tree(pid) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p))
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(l, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
				sum += kb * 1024
			}
		}
	}
	return sum
}

// statFields splits /proc/PID/stat after the command name (field 2),
// so that index 0 is field 1 (pid) and index 13 is field 14 (utime).
func statFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return append([]string{strconv.Itoa(pid), s[strings.IndexByte(s, '(') : i+1]}, strings.Fields(s[i+1:])...)
}

// tree is pid and its descendants (by parent pid).
func tree(pid int) []int {
	ents, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f := statFields(p)
		if len(f) > 3 {
			pp, _ := strconv.Atoi(f[3])
			parent[p] = pp
		}
	}
	out := []int{pid}
	for changed := true; changed; {
		changed = false
		for p, pp := range parent {
			if p == pid || contains(out, p) {
				continue
			}
			if contains(out, pp) {
				out = append(out, p)
				changed = true
			}
		}
	}
	return out
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func fetch(url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return io.ReadAll(resp.Body)
}
