// Package sim is vigil's deterministic cluster simulator. Each simulated
// node runs a vigil engine on its own keepalived.conf; the engine's effects
// are executed against a model of the world (interfaces, address tables,
// L2 segments with latency, loss, duplication and reordering, partitions
// and one-way drops, a neighbour view per segment fed by gratuitous ARPs
// and NAs, BFD control packets carried to the neighbour's engine); time
// is virtual, so an hour of cluster life takes milliseconds.
//
// A run is fully determined by its seed: one event queue ordered by
// (virtual time, insertion sequence), one seeded PCG for every random
// choice, and no Go map iteration anywhere near the schedule or the output.
//
// Scenarios (see README.md) drive a World command by command; the swarm
// generates random clusters and fault schedules, checks invariants
// continuously and shrinks failing schedules to a reproducing scenario.
// ChaosSchedule, ChaosScenario, RunChecked and Shrink do the same for a
// cluster the user describes (vigil sim chaos, package sim/chaos).
//
// The package does not import the engine: a Backend supplies engines and
// the configuration loader. Package sim/harness binds vigil's real engine
// and config parser.
package sim
