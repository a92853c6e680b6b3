// Package netlink is vigil's kernel networking adapter. Its Executor applies
// the address, route, rule and VMAC effects (effects.AddAddress, AddRoute,
// AddRule, CreateVMAC and their inverses) the way keepalived does, through
// rtnetlink; its Monitor turns the kernel's link, address, route and rule
// notifications into events, after an initial snapshot, and resynchronises
// by diffing a fresh snapshot whenever the kernel reports that notifications
// were dropped.
//
// Both can work in another network namespace (keepalived's net_namespace,
// or a test's namespace) given its name or path.
package netlink
