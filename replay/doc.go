// Package replay reads a journal back: what `vigil replay` shows of an
// incident, and the determinism check. The journal itself — writing,
// chunks, reading records, files, gaps, snapshots, retention, the format —
// is package journal; replay only reads it, through journal.Reader, and
// drives the engine with what it finds.
//
// # Opening
//
// OpenJournal opens one node's journal (a file or a directory of files)
// and indexes it: its files, snapshots, gaps and runs. A Run is what one
// engine lineage produced, a daemon run from its start to its stop or
// crash; a new run starts at each file whose first event is a
// ConfigLoaded not preceded by a snapshot. OpenSet opens a set of node
// journals (a directory with a subdirectory per node, as `vigil sim
// --journal` writes it); PickNode chooses one. A TimeSpec names a moment
// as the command line does (an event time of the latest run started by
// then, or a wall-clock time), and Journal.Locate finds its event.
//
// # Tools
//
//   - Verify re-runs each run through the current engine and compares the
//     effects, byte for byte, and the snapshots with the re-run state; it
//     reports the first divergence.
//   - Journal.EngineAt and Journal.At rebuild the engine state after an
//     event, from the newest usable snapshot or the run's start.
//   - Explain gives the causal chain behind an instance's last transition
//     at or before a moment: the events since its previous one, and its
//     state just before and after (what each tracked object contributed
//     to its priority).
//   - WhatIf feeds a journal's external inputs to an engine running
//     another configuration and compares the transitions.
//   - Timeline merges the node journals of a set into one story in time
//     (Story: runs, faults, state changes, the effects that touch the
//     world, each with its cause); SVG draws it as one lane per instance
//     and node.
//
// # What the engine decided
//
// replay re-derives no engine rule and parses none of the strings the
// engine emits. A timer key in particular is opaque: to tell whose timer
// a recorded SetTimer or CancelTimer is (the instance a timeline line
// belongs to, the "master-down timer" of an explanation), Story and
// Explain follow the run with an engine and ask it (engine.Engine.Timer).
package replay
