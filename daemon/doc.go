// Package daemon is vigil's Linux daemon: the loop of DESIGN.md ("The
// loop") wired to the real adapters, plus what a drop-in keepalived needs
// around it (logging, pid files, signals, systemd, detaching).
//
// # The loop
//
// One goroutine (Loop.Run) owns the engine. Its sources are the VRRP
// sockets (vrrpnet.Mux), the clock's fired timers, the netlink monitor, and
// one channel shared by script results, tracker values, check results and
// reloaded configurations; signals arrive on their own channel. Each event is
// stamped with the clock as the loop takes it (so times never go backwards
// across sources), stepped through the engine, its effects dispatched, and
// the pair journaled (journal.Writer: Append only encodes and queues).
//
// Dispatch never blocks: adverts are sent inline (one sendmsg each, and
// they must leave in order and on time); address, route, rule and VMAC
// effects go through a bounded FIFO queue to the netlink executor's own
// goroutine, so a slow netlink call never delays an advert (a full queue
// drops and logs); GARP/NA go through that same FIFO to the ARP sender, so
// that an address is announced only once it exists and a VMAC only once
// it is created (the ordering rule of package effects), the sender then
// repeating each burst on its own goroutine; timers and scripts are
// queued by their adapters. StateChanged, Log and Count effects become
// log lines and the SIGUSR2 counters.
//
// # Checkers and IPVS
//
// The checker half (keepalived's checker process) runs in the same loop.
// RunCheck effects go to adapters/check's Executor, whose workers answer
// each with one CheckResult on the shared channel. FILE_CHECK checkers read
// the track-file watcher's TrackFileValue events, the same the VRRP
// track_file uses; engine/lvs decides their verdict. ReconcileIPVS and
// SetIPVS effects go to adapters/ipvs through a second kernel queue, in
// the engine's order, so IPVS and netlink never wait on each other or
// delay the loop. The start reconciliation is the engine's: the Start
// step emits one ReconcileIPVS with the whole desired table (flushed
// first with lvs_flush), which the executor reconciles the kernel with,
// repairing what a previous run left rather than adding it again; every
// later SetIPVS queues behind it. CheckStateChanged becomes an info line.
//
// -P (NoLVS) drops the virtual servers from the configuration: no checker
// runs and IPVS is never opened. -C (NoVRRP) drops the VRRP parts and opens
// no VRRP socket nor ARP sender. When the configuration has virtual
// servers and the kernel has no IPVS, one error is logged and everything
// else goes on: VRRP keeps running, checks run and their notify scripts
// and FIFO lines still fire; only the kernel table is not programmed
// (keepalived's checker process would exit instead). -I (KeepIPVS) leaves
// the table in place at stop, as the Stop event's KeepIPVS says.
//
// Start: ConfigLoaded (parsed and validated, with the sha256 of every file
// read as its digest), the netlink snapshot as LinkChanged/AddressChanged
// events, Start with a seed from crypto/rand, a journal snapshot, then the
// trackers and the loop. SIGTERM/SIGINT step a Stop event (priority-0
// adverts; VIPs removed unless --dont-release-vrrp; IPVS services removed
// unless --dont-release-ipvs) and the daemon waits up to ShutdownTimeout
// for the netlink and IPVS queues before exiting. SIGHUP parses
// the configuration in a goroutine (a large one takes seconds) and steps
// it as a ConfigLoaded event; a configuration that does not load is
// logged and the running one kept. SIGUSR1 and SIGUSR2 write
// /tmp/keepalived.data and /tmp/keepalived.stats, as keepalived does.
//
// # Status and metrics
//
// The loop's Observer (observe.go) watches every step for `vigil status`
// and /metrics: the last transitions of each instance with the rule and
// the event behind each, the causal chain of each instance in the words
// of package explain, how late advert timers were stepped, and the
// latency from an event's arrival to its effects' dispatch. It publishes
// status.Snapshots built from the engine's read-only views through an
// atomic pointer — when something changed, at most every 500 ms, and at
// once after a transition — so that the control socket (status.Serve)
// and the Prometheus collector (package metrics) read without ever
// waiting for the loop. An explanation is asked of the loop through a
// channel and answered with copies, formatted off the loop; after a
// one-second timeout the last snapshot answers instead. keepalived's
// counters are the ones StateDumps' recorder aggregates for SIGUSR2.
//
// # Logging
//
// zerolog, to syslog (text, or JSON with --log-json; facility from -S),
// the console (-l) and a file (-g). Every line goes through AsyncWriter, a
// bounded queue drained by one goroutine: a full queue drops the line and
// counts it, and a note with the count is written when the output catches
// up. Why: a log write can block (keepalived falls back to /dev/console,
// measured at up to 39 ms per line here), and the loop must never wait for
// it. Without /dev/log vigil logs to stderr rather than the console.
//
// # Processes, pid files and systemd
//
// vigil is a single process. It writes its pid to the main pid file
// (-p, /run/keepalived.pid) and to the VRRP one (-r, /run/vrrp.pid), so
// tools that signal "the VRRP process" reach it; it refuses to start when
// a pid file names another live process. The checkers and the BFD
// sessions run in the same process, so -c and -b are accepted and nothing
// is written.
//
// Debian's keepalived.service is Type=notify with --dont-fork: vigil sends
// READY=1 once the engine has started, RELOADING=1 (with MONOTONIC_USEC,
// systemd ≥ 253's protocol) and READY=1 around reloads and STOPPING=1 at
// shutdown to $NOTIFY_SOCKET (Notifier: one socket, sendto without
// blocking). When systemd sets WATCHDOG_USEC (and WATCHDOG_PID is this
// process or unset), the loop itself sends WATCHDOG=1 at half the
// interval, as one more case of its select: a loop stuck in a step stops
// pinging and systemd restarts vigil (dist/vigil.service, WatchdogSec).
// The engine knows nothing of it. Without -n, keepalived
// forks into the background; a Go program cannot fork, so vigil re-executes
// itself with --dont-fork in a new session (Detach) and the parent exits
// only once the child reports through a pipe that it is running (pid files
// written, engine started) — or fails with the child's error. That is
// what Type=forking expects: when ExecStart returns, PIDFile is in place.
package daemon
