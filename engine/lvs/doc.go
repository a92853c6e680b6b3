// Package lvs is vigil's pure LVS reducer: the health state of every
// virtual and real server of a configuration, quorum and sorry servers,
// and the IPVS table that follows from them, advanced one event at a time
// as keepalived's checker process does (keepalived/check/ipwrapper.c,
// check_api.c and the checkers' epilogues).
//
// # Who schedules checks
//
// The engine does. Every polled checker (TCP, HTTP, SSL, SMTP, DNS, MISC,
// PING, UDP) has one timer, keyed "lvs/<vs>/<rs>/<n>". When it fires the
// machine emits effects.RunCheck; the checker adapter runs that one check
// and answers with one events.CheckResult; the machine then applies
// keepalived's epilogue — retry and delay_before_retry, alpha, the
// up/down verdict — and arms the timer for the next check after
// delay_loop or delay_before_retry. warmup (the random delay before the
// first check) is drawn from Start.Seed. So every timing rule lives here,
// once, and a journal replays or a simulation runs with exactly the
// checks, retries and verdicts of production. A result that answers no
// outstanding RunCheck is stale and ignored; a RunCheck that gets no
// answer within its timeout plus 5 s counts as a failed check. BFD_CHECK
// follows BFDState events, and FILE_CHECK follows the TrackFileValue
// events of its track file (files.go decides the verdict and the weight):
// neither is polled, and neither retries.
//
// # Identifiers
//
// A virtual server is named "tcp/10.0.0.1:80" (protocol/address:port),
// "fwmark/1" ("fwmark/1/inet6" for an IPv6 fwmark service) or
// "group/NAME/tcp"; a real server by its address and port,
// "10.0.1.1:80". These IDs are what RunCheck, CheckResult, SetIPVS,
// ReconcileIPVS and the timer keys carry. Notifications use keepalived's
// own formats ("[10.0.0.1]:tcp:80", "FWM 1", "[NAME]:0").
//
// # The IPVS table
//
// The machine keeps, per virtual server, the table it has asked for (the
// applied services and destinations). A real server is in its services
// with its weight when alive (and quorum is up or there is no sorry
// server); with weight 0 when inhibit_on_failure is set and it is not;
// absent otherwise. The sorry server replaces the real servers while
// quorum is down. Table reports the result.
//
// At Start (the first, or one after a Stop) the machine cannot know what
// the kernel holds: a previous run stopped with --dont-release-ipvs, one
// that crashed, an operator's ipvsadm. So the Start Step emits the whole
// desired table as one effects.ReconcileIPVS, Flush set by lvs_flush,
// rather than SetIPVS additions; the executor makes the kernel match it
// (flushing first when asked) and so repairs what it finds. A
// configuration without virtual servers emits none (keepalived runs no
// checker process then). The decision lives here, so the journal, replay
// and the simulator see it like any other effect.
//
// After that, at the end of every Step the machine recomputes the
// desired table of each virtual server that changed and emits the
// difference as idempotent SetIPVS operations: deletions first, then
// additions and edits, in configuration order. A reload is not a start:
// it keeps its SetIPVS differences, and lvs_flush does not apply to it;
// a Stop removes the table with SetIPVS operations (a flush with
// lvs_flush_on_stop), or keeps it with --dont-release-ipvs.
//
// Within one Step, effects come in this order: timers, RunCheck,
// CheckStateChanged and Log as they arise; then the ReconcileIPVS or the
// SetIPVS operations; then the Notify effects (real server UP/DOWN, then
// quorum UP/DOWN). keepalived interleaves its kernel commands and
// notifications; putting the table change first means a notify script
// always sees the new table.
//
// # Deviations from keepalived, on purpose
//
//   - A reload keeps the schedule of every checker it keeps (keepalived
//     restarts them all after a new warmup), so a reload that changes
//     nothing emits nothing.
//   - ha_suspend follows the virtual server's address as reported by
//     AddressChanged events, as keepalived does; it applies to address
//     virtual servers only (keepalived never matches a fwmark or group
//     service's address and so suspends their checkers for ever; vigil
//     logs a warning and checks them).
//   - The kernel commands keepalived issues for the losing side of a
//     quorum regression on reload (no sorry server pushed in) are not
//     replicated: the desired table always follows the rules above.
//   - An HTTP_GET/SSL_GET run checks all its URLs (the adapter's job); the
//     engine sees one verdict per run.
//   - SMTP_CHECK's failure alert says vigil's reason for the failure
//     where keepalived's says its own SMTP error text; BFD_CHECK (not
//     implemented) sends none.
package lvs
