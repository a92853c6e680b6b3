// Package engine is vigil's reducer: Step turns one event into the effects
// it causes, evolving a state that MarshalState captures and RestoreState
// rebuilds. Every keepalived rule vigil implements lives here, below this
// directory, and nowhere else. This comment is the contract between the
// engine and whatever drives it.
//
// # The events, in order
//
// A driver (package driver: the daemon's loop, the simulator's nodes,
// replay, the scenario harness driver/scenario) steps the engine with, in
// this order:
//
//  1. ConfigLoaded: the whole parsed configuration. Before it nothing
//     runs: an event only records what it says of the world (an
//     interface's state, an address).
//  2. The kernel as it is now: a LinkChanged for every interface, then an
//     AddressChanged for every address (links first, so that an address
//     lands on a known interface). An interface no LinkChanged ever
//     reported is assumed up.
//  3. Start, with the PRNG seed and ReportsJoins: a driver that sets it
//     answers every JoinGroup effect with a GroupJoined, and an instance
//     then leaves INIT only once the socket it receives on is joined
//     (driver.Boot builds steps 1 to 3).
//  4. Then anything, in the order the world produced it: adverts, BFD
//     control packets, timers firing, link, address and route changes,
//     script, track file, process, BFD and check results, GroupJoined
//     answers. A further
//     ConfigLoaded is a reload (instances and checkers that stay keep
//     their state); Stop shuts down gracefully, and a Start after a Stop
//     begins afresh.
//
// Time enters only as data: every event carries its time (events.Stamp,
// monotonic, never going backwards as the engine sees it). A timer is an
// effect (SetTimer, CancelTimer) and its firing an event (TimerFired)
// that the driver delivers at or after the deadline, timers with equal
// deadlines in the order they were set. A TimerFired for a key that is no
// longer armed, or that fires before its deadline, is ignored.
//
// # What the engine promises
//
//   - Pure: no clock, no I/O, no goroutines, no channels, no package
//     state; only the standard library's pure packages, events and
//     effects (purity_test.go enforces it by reading the import graph and
//     the code).
//   - Deterministic: the same events give the same effects, byte for
//     byte, on every run and every machine. Map iteration order never
//     reaches an effect; randomness (checker warmup, the sync-group duel
//     backoff) comes from Start.Seed and is part of the state, so a
//     restored state continues exactly as the original would.
//   - Total: any event in any state is handled, possibly by ignoring it
//     and counting why (a bad advert is counted, as keepalived counts it,
//     and dropped). A nil event or a nil event pointer produces nothing.
//   - Never panics, whatever the input (fuzz_test.go).
//   - The effects Step returns, and what they point to, are owned by the
//     engine and valid until the next Step: a caller that keeps them
//     copies them (effects.Clone).
//   - The order of a step's effects is meaningful and executors keep it:
//     a new MASTER's advert comes before its addresses (so the old master
//     releases the VIPs before our GARPs), addresses before GARPs, a
//     no_accept instance's addresses into the nftables drop sets before
//     they are added and out of them after they are deleted, group
//     leaves before an instance stops, a sync group's notification after
//     its members'; the VRRP effects come before the LVS ones, and
//     within the LVS part timers and checks come first, then the IPVS
//     table changes (after a Start, the one ReconcileIPVS, preceded by
//     the lvs_timeouts; at a Stop the timeouts are restored after the
//     table), then the notifications (a notify script sees the new table). Timers set in
//     one step with the same deadline fire in that order. The BFD
//     sessions' effects (packets, their timers, state changes) come
//     before VRRP's; a session's change of state reaches track_bfd and
//     BFD_CHECK in the same step.
//   - Reads never change anything: Instances, DumpView, VirtualServers,
//     IPVSTable, Timer and MarshalState only look.
//
// # Where each rule lives
//
// engine/vrrp is the VRRP machine (RFC 5798, RFC 3768, keepalived's
// behaviours):
//
//   - machine.go, instance.go: compiling a configuration into instances,
//     tracked objects and the timer table; skew and master-down interval.
//   - timers.go: the timer table (key → kind and owner).
//   - lifecycle.go: Start, Stop, joining and leaving groups (at Start,
//     and again on an interface recreated after a deletion, link.go),
//     leaving INIT.
//   - transitions.go: the states and what entering each one does
//     (adverts, addresses, GARP/NA bursts, timers).
//   - rx.go: received adverts: the checks and counters of RFC 5798 §7.1,
//     then the election (BACKUP and MASTER receiving).
//   - handlers.go: the other events: timers firing, address and route
//     changes, track script, file, process and BFD results.
//   - track.go: the one evaluation of tracking: fault status and effective
//     priority from every tracked object (also what dumps and explain
//     show).
//   - sockets.go: receiving sockets as state (joins, failures, backoff;
//     a VMAC's socket waits for its link; a failed socket is joined at
//     once when its interface appears) and the JoinGroup itself, which
//     carries the IPSEC-AH keys of the instances receiving on the socket.
//   - sync.go: sync groups, and the backoff that ends their duels.
//   - link.go: link changes and interface_up_down_delays.
//   - garpdelay.go: the GARP/NA delays (vrrp_garp_interval,
//     vrrp_gna_interval, garp_group), shared by every instance on an
//     interface.
//   - reload.go: a new configuration while running (a kept socket whose
//     IPSEC-AH keys changed is left and joined again).
//   - firewall.go: the firewall half of no_accept and strict mode: which
//     instances filter their VIPs, the nftables table, and when addresses
//     enter and leave its drop sets.
//   - notify.go: notify scripts and FIFO lines, and the email alerts
//     (smtp_alert) of instances and sync groups.
//   - lvssync.go: the IPVS connection sync daemons (lvs_sync_daemon):
//     with an instance, backup at a start, master while the instance is
//     MASTER, stopped at a stop; without one, both while there are
//     virtual servers (keepalived's checker runs them).
//   - snapshot.go, dumpview.go: the state as journaled, and as dumped.
//
// engine/lvs is the checker process: virtual and real servers.
//
//   - check.go: scheduling checks, their epilogue (retries, alpha, the
//     verdict) and a real server's state and weight.
//   - quorum.go: quorum, hysteresis and the sorry server.
//   - table.go: the desired IPVS table, what the engine has asked the
//     kernel to hold (Table) and the SetIPVS diff.
//   - machine.go: routing the events; Start, whose Step emits the whole
//     desired table as one ReconcileIPVS (flushed first with lvs_flush)
//     since nothing says what the kernel holds at a start; Stop
//     (lvs_flush_on_stop, --dont-release-ipvs); ha_suspend's addresses.
//   - files.go: FILE_CHECK, a track file's value as a verdict or a weight.
//   - mail.go: the email alerts of checkers, real and virtual servers.
//   - timeouts.go: lvs_timeouts, set at a start and a reload, restored at
//     a stop.
//   - model.go, reload.go, snapshot.go: compiling (a checker's
//     configuration without its source position, so a restored engine
//     emits the same RunCheck bytes), reloading, the state.
//
// engine/internal/alert builds a SendMail for either part: whether
// alerts can be sent at all (notification_email and smtp_server), the
// envelope from global_defs and the "[router_id] " subject prefix.
//
// engine/bfd is the BFD session machine (RFC 5880/5881/5883, as
// keepalived 2.2.7's BFD process runs it): its package comment lists each
// rule with its scenario (testdata/bfd).
//
// This package joins the three: Step routes each event to every part
// that has a use for it (BFD packets and BFD timers to the BFD machine,
// the LVS part the events it takes) and returns BFD's effects, then
// VRRP's, then LVS's; the BFD sessions' changes of state are handed to
// VRRP (track_bfd) and LVS (BFD_CHECK) as BFDState within the step.
// phases.go is its own: global_defs' startup_script (Start emits its
// RunScript and both parts start when its ScriptResult comes)
// and shutdown_script (its RunScript follows every other effect of Stop).
//
// testdata/INDEX.md maps each rule area to the scenario files that
// specify it (run by driver/scenario; TestScenarioIndex keeps the map
// complete).
//
// # The boundary
//
// No keepalived decision is taken outside engine/. The driver only
// carries time (stamping events, a timer queue), order (one event at a
// time, effects executed in order) and the world's answers (adverts,
// kernel changes, script and check results, join outcomes): see package
// driver. Tools that need to know what the engine decided ask it through
// the read-only methods above rather than re-deriving a rule or parsing
// the strings it emits: a timer key is opaque outside engine/, and
// Engine.Timer says what it is for (its effects.TimerKind) and whose it
// is, from the engine's own timer tables.
package engine
