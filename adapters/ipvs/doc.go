// Package ipvs applies vigil's desired IPVS table to the kernel through
// github.com/moby/ipvs (generic netlink), and reconciles it with what the
// kernel already holds when vigil starts (the engine's ReconcileIPVS
// effect, executed by Executor with Manager.Sync).
//
// The package speaks its own small types (Service, Dest, Table) rather than
// the engine's effects: the LVS reducer decides what the table should be,
// and a thin mapping layer (config.go for keepalived.conf virtual servers)
// turns configuration or effects into these types. Everything here is I/O;
// nothing decides health.
//
// Ownership. vigil owns the services it is told about (the desired table)
// and every destination inside them: Apply makes each desired service look
// exactly as desired, removing destinations nobody asked for. A service in
// the kernel that is not desired is left alone (another program, or an
// operator with ipvsadm, may own it) unless it was created by vigil — the
// Manager remembers what it created, and can persist that list in a state
// file so that a restart after a configuration change still removes the
// services that the old configuration created — or Flush is requested
// (keepalived's lvs_flush).
//
// A kernel without IPVS. github.com/moby/ipvs reports success for every
// request when the kernel has no IPVS (it sends to generic netlink family
// 0), so Open looks the "IPVS" family up itself and fails with
// ErrNoIPVS when it is missing.
package ipvs
