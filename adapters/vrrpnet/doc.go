// Package vrrpnet moves VRRP advertisements between vigil and the network:
// a pure codec for VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798) adverts over
// IPv4 and IPv6, wire-compatible with keepalived, and raw IP-protocol-112
// sockets. It speaks only the events and effects vocabularies.
//
// # Codec
//
// AppendIPv4 and AppendVRRP6 encode an effects.SendAdvert plus the Wire
// facts the adapter supplies (source, one destination, TTL, IPv4 ID, AH
// sequence); DecodeIPv4 and DecodeIPv6 fill an events.AdvertReceived with a
// Verdict. They do no I/O and no allocation once buffers are sized.
//
// IPv4 packets are built from the IP header on, as keepalived builds them
// for its IP_HDRINCL socket: TOS 0xc0, no DF, TTL 255 (or unicast_ttl), an
// identification that increments per instance and is never 0. The bytes
// match keepalived's exactly (testdata/keepalived-2.2.7-adverts.txt).
//
// VRRPv2 authentication: PASS carries the 8-byte zero-padded password; AH
// is keepalived's user-space IPSEC-AH header (protocol 51, SPI = source
// address) with an HMAC-MD5-96 ICV over the IP header with TOS, fragment
// field, checksum (and, for unicast, TTL) zeroed, then the AH header, then
// the VRRP message. The ICV's key is the auth_pass the adapter holds
// (Conn.SetAuthKey; Wire.AHKey for the codec), never SendAdvert.AuthData,
// which under AH is the message's zero authentication field. The ICV and
// the SPI are verified on decode; the sequence number is reported in
// Advert.AHSeq.
//
// Checksums: VRRPv2 over the VRRP message; VRRPv3 over the IPv4 or IPv6
// pseudo-header with the real destination. For VRRPv3 over IPv4 the encoder
// also makes keepalived's old_unicast_checksum form (pseudo-header
// destination = the multicast group) and the v3_checksum_as_v2 form (no
// pseudo-header), as SendAdvert.Checksum says. The decoder accepts all
// three, in keepalived's order, and reports which one verified in
// Advert.Checksum, so the engine can switch as keepalived does.
//
// # Sockets
//
// Conn is the raw socket of one (interface, family), shared by all the
// instances on it: SO_BINDTODEVICE, multicast loopback off, IP_MULTICAST_ALL
// off, counted group joins. IPv4 sends whole packets (IP_HDRINCL) and reads
// TTL and destination from the delivered IP header (IP_RECVTTL too). IPv6
// sends the source and hop limit as IPV6_PKTINFO/IPV6_HOPLIMIT control
// messages and reads them back with IPV6_RECVPKTINFO/IPV6_RECVHOPLIMIT.
// IPV6_CHECKSUM is deliberately not set: the kernel would then drop bad
// checksums unseen, whereas we verify in user space and count them, like
// IPv4. The first AH key of an IPv4 Conn opens a second, protocol-51 socket.
// The AH sequence counter is keepalived's: one per instance, advanced by
// each advert sent and raised by each verified advert received, which must
// exceed it (a replay is judged VerdictBadAuthAH).
//
// Mux executes the SendAdvert, JoinGroup and LeaveGroup effects: it opens
// Conns lazily (in the calling goroutine's network namespace), runs one
// reader goroutine per socket and delivers each packet as a fresh
// *events.AdvertReceived, stamped by the caller's clock, on Events. Packets
// the decoder rejects (and, once SetReceivers gave the engine's receivers,
// adverts of a version their VRID does not run) are tallied by cause
// without allocating and, unless DropBad, delivered every Coalesce as one
// event per cause whose Count says how many packets it stands for, for
// the engine to count per instance as keepalived does; OnRejected gets
// one report per cause and LogEvery for a log line.
//
// SetReceivers also attaches a classic BPF filter to every socket
// (filter.go): packets for VRIDs the engine does not run there, and
// multicast adverts with a TTL (hop limit) other than 255, are dropped in
// the kernel and never wake a reader.
package vrrpnet
