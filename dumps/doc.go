// Package dumps writes keepalived's state dumps from vigil's engine: the
// data dump (/tmp/keepalived.data, SIGUSR1), the statistics dump
// (/tmp/keepalived.stats, SIGUSR2) and the JSON dump (/tmp/keepalived.json,
// keepalived's JSON signal), with keepalived 2.2.7's field names, order and
// formatting so that scripts and monitoring written for keepalived read
// them unchanged.
//
// The package is pure formatting: the daemon takes an Input on the
// goroutine that owns the engine (engine.DumpView plus the Recorder that
// has watched the engine's effects) and formats and writes it elsewhere.
// Where vigil deliberately differs from keepalived, the function that
// writes the part says so; the list is in the README.
package dumps
