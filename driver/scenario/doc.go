// Package scenario runs vigil's scenario files: the datadriven
// (github.com/cockroachdb/datadriven) scripts beside the rules they
// specify (engine/testdata/..., engine/lvs/testdata/...), in the style of
// etcd-io/raft's rafttest. One harness serves VRRP and LVS alike: it
// steps an *engine.Engine through driver.Driver, keeps its timers in
// driver.Timers (deadline, then set order: the daemon clock's order) and
// prints every effect with driver.DescribeEffect, each line prefixed
// with the time of the event that produced it.
//
// The harness plays the world with two models besides the clock:
//
//   - IPVS, a strict model of the kernel's IPVS table: every SetIPVS is
//     applied to it and an operation that is not minimal (adding what
//     exists, editing what is unchanged, deleting what is not there)
//     fails the scenario; after every step it must equal the engine's
//     IPVSTable;
//   - Health, the checker adapter: every RunCheck is answered at once
//     with the health the scenario set for that real server (`health`,
//     default up), unless that health is `none`.
//
// Everything else the world says (links, addresses, adverts, BFD
// packets, script and tracker results, join outcomes) is a command of the
// scenario.
//
// Each command is one file, cmd_<name>.go, whose handler's doc comment
// shows its syntax and an example (TestCommandDocs checks that every
// example is accepted). Arguments are strict: every command declares the
// keys it accepts and which it needs, and an unknown key, a missing one,
// a repeated one or an unparsable value fails the test at the file:line
// of the directive. Every command that steps the engine accepts
// only=(Kind, ...), which keeps the output lines of those effect kinds.
// The commands:
//
//	config, reload   a keepalived.conf (the input block) as ConfigLoaded
//	start            Start [seed=N] [reports-joins]
//	stop             Stop [keep] [keep-ipvs]
//	link             LinkChanged if=NAME [up|down|deleted]
//	addr             AddressChanged if=NAME prefix=P [del]
//	route            RouteChanged dst=P [table=N] [del]
//	rule             RuleChanged [from=P] [to=P] [table=N] [pref=N] [del]
//	advert           AdvertReceived from=ADDR prio=N [inst=NAME] [overrides]
//	script           ScriptResult name=S status=N|timeout|fail [phase=startup|shutdown]
//	track-file       TrackFileValue name=F value=N [failed]
//	process          ProcessCount name=P count=N
//	bfd              BFDState name=B [up|down]
//	bfd-rx           BFDReceived name=B state=S [packet fields]
//	joined           GroupJoined if=NAME group=ADDR [err=TEXT]
//	check            CheckResult vs=VS rs=RS [idx=N] [ok] [msg=] [weight=]
//	health           how the checker answers RunCheck from now on
//	fire             TimerFired key=K now, leaving the armed timer
//	advance          the clock forward by DURATION, firing the timers due
//	status           the VRRP instances and the LVS virtual servers
//	timers           the armed timers, in firing order
//	table            the IPVS table the engine asks for
//
// RunFile and Walk run scenario files (and CheckDeterminism on each);
// New, Exec and Step serve tests that drive the harness themselves (the
// LVS fuzz test).
package scenario
