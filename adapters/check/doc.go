// Package check runs keepalived's health checkers against real servers:
// TCP_CHECK, HTTP_GET, SSL_GET, SMTP_CHECK, DNS_CHECK, UDP_CHECK,
// PING_CHECK and MISC_CHECK.
//
// A check is one attempt: Checker.Check connects, converses, judges and
// returns a Result. Scheduling — warmup, delay_loop, retry,
// delay_before_retry, fast_recovery, ha_suspend — belongs to the LVS engine,
// which asks for each attempt with an effects.RunCheck; Executor runs those
// effects on a bounded pool of workers and answers each with exactly one
// events.CheckResult. BFD_CHECK and FILE_CHECK are event driven (the BFD
// and track-file adapters report them) and are not run here.
//
// Behaviour follows keepalived's checkers (keepalived/check/check_*.c),
// with the differences noted on each function. Every network check honours
// connect_ip/connect_port (already resolved into the Target by the
// engine), bindto, bind_port, bind_if and fwmark, and the whole attempt is
// bounded by the RunCheck's timeout (connect_timeout).
package check
