// Package bfdnet is BFD's network adapter: the control packet codec (RFC
// 5880 §4.1) and the UDP sockets of RFC 5881 (single hop, port 3784) and
// RFC 5883 (multihop, port 4784), IPv4 and IPv6.
//
// It decides nothing: received packets become events.BFDReceived with the
// decoded fields, the decoder's verdict and the facts of reception
// (source and destination address, source port, interface, TTL or hop
// limit, the port they came on); every check of RFC 5880 §6.8.6 beyond
// reading the packet, the TTL check included, and the choice of the
// session (by Your Discriminator, else by address) is the engine's
// (engine/bfd). effects.SendBFD is encoded as the engine wrote it and
// sent with its TTL or hop limit, from its source address if it has one.
//
// Sockets: one listening socket per family and port (3784 always, 4784
// once a multihop session asks for it), shared by every session; one
// sending socket per family, bound to a random source port in
// 49152-65535 (RFC 5881 §4), shared by every session too (a session keeps
// one source port for its life). The TTL of the IPv4 sending socket is
// set when a packet needs another one; IPv6 packets carry their hop
// limit as a control message.
package bfdnet
