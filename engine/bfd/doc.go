// Package bfd is vigil's BFD session machine (RFC 5880 asynchronous mode,
// RFC 5881 single hop, RFC 5883 multihop), one session per bfd_instance,
// as keepalived 2.2.7 runs them. It is pure, like the rest of engine/:
// received control packets arrive as events.BFDReceived (decoded fields
// and the facts of reception, adapters/bfdnet), its timers are
// effects.SetTimer and events.TimerFired, it sends with effects.SendBFD
// (the packet's fields, never bytes) and its randomness (discriminators,
// transmit jitter) comes from the engine's journaled seed.
//
// The rules, and where they are specified (engine/testdata/bfd):
//
//   - States AdminDown, Down, Init, Up and the three-way handshake (RFC
//     5880 §6.2, §6.8.6): Down receiving Down goes Init, Down receiving
//     Init goes Up, Init receiving Init or Up goes Up, Up receiving Down
//     goes Down (diagnostic 3, Neighbor Signaled Session Down), any state
//     but Down receiving AdminDown goes Down (diagnostic 3). A session is
//     AdminDown before Start and after Stop, Down from Start.
//     (handshake.txt)
//   - Reception checks (§6.8.6, keepalived's bfd_check_packet): the
//     decoder's verdict, detect multiplier 0, the multipoint bit, My
//     Discriminator 0, Your Discriminator 0 outside Down and AdminDown,
//     Poll and Final together, an invalid diagnostic, the authentication
//     bit (vigil, like keepalived, authenticates nothing); then the
//     session: by Your Discriminator, else by source address (and
//     source_ip, and the port: single hop or multihop); the packet's
//     source must be the neighbour; then the TTL: a packet whose TTL or
//     hop limit plus max_hops is below the session's ttl/hoplimit is
//     dropped (RFC 5881 §5's GTSM with keepalived's max_hops; 255
//     disables the check). Discards are counted (bfd_discarded).
//     (reception-checks.txt)
//   - Timing (§6.8.2-§6.8.4, §6.8.7): the interval between our packets
//     is the greater of our Desired Min TX (min_tx when Up, idle_tx
//     otherwise) and the neighbour's Required Min RX, less a random
//     0-25 % jitter (10-25 % when our multiplier is 1), drawn from the
//     seed; no periodic packets while the neighbour's Required Min RX is
//     0, or while it is in Demand mode and both ends are Up. The
//     detection time is the neighbour's Detect Mult times the greater of
//     our Required Min RX (min_rx) and its last Desired Min TX; it
//     restarts at every accepted packet, and running out takes an Init
//     or Up session Down (diagnostic 1, Control Detection Time Expired)
//     and forgets the neighbour (its discriminator and timers).
//     (timing.txt, jitter.txt, detection.txt)
//   - Poll and Final (§6.5, §6.8.3): a session going Up with min_tx
//     different from idle_tx, or an Up session whose min_tx, idle_tx or
//     min_rx a reload changed, polls (P set in its periodic packets) until
//     a packet with F arrives. While it polls, a raised Desired Min TX
//     is not used for our own transmissions and a lowered Required Min
//     RX not for the detection time. A received P is answered at once
//     with F. (poll.txt)
//   - Passive (§6.1): a passive session sends nothing until it has heard
//     from the neighbour, and stops again when the detection time runs
//     out. (passive.txt)
//   - A new random nonzero local discriminator, unique among the
//     sessions, at Start and whenever a session falls from Up (as
//     keepalived does, so late packets of the old session are not
//     taken for the new one).
//   - Demand mode is never asked for (D clear) and no echo function runs
//     (Required Min Echo RX 0).
//   - track_bfd and BFD_CHECK (keepalived's bfd_event_send): a session
//     reaching Up reports up, a session falling from Up reports down -
//     unless the neighbour signalled AdminDown (RFC 5882 §3.2: that is no
//     failure). The reports are Changes the engine hands to the VRRP and
//     LVS machines within the same step (the vrrp and checker keywords
//     choose which). At Start every session is reported down, as
//     keepalived's BFD process reports every session when it starts: an
//     unweighted track_bfd starts in FAULT, a BFD_CHECK real server
//     starts down. (track.txt, check.txt)
//   - Stop sends nothing (keepalived sends no AdminDown when it stops:
//     its peers see the detection time run out); a reload keeps the
//     sessions whose neighbour, source and mode are unchanged.
//     (reload.txt)
package bfd
