// Package soak holds `make soak`: a long, randomised, seeded schedule of
// faults (daemon killed and restarted, stopped and continued, cable pulled,
// VIP deleted behind the daemon's back, journal disk full, CPU hog,
// graceful restart and reload) injected into a namespace lab of vigil
// nodes, alone and beside keepalived, with the split-brain and lost-VIP
// seconds outside the protocol's window, leaked kernel objects, journal
// gaps and `vigil replay verify` results reported at the end. The test
// runs only when VIGIL_SOAK=1 (and as root); it is not part of `make test`.
package soak
