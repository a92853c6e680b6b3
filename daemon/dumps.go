package daemon

import (
	"bytes"
	"fmt"
	"os"
	"sort"
)

// Default dump files, keepalived's (SIGUSR1 and SIGUSR2).
const (
	DefaultDataFile  = "/tmp/keepalived.data"
	DefaultStatsFile = "/tmp/keepalived.stats"
)

// dumpData writes every instance's state to DataFile (SIGUSR1). The text
// is built in the loop (the engine is the loop's) and written by a
// goroutine.
func (l *Loop) dumpData() {
	if l.DataFile == "" {
		return
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "------< VRRP Topology >------\n")
	for _, i := range l.Engine.Instances() {
		fmt.Fprintf(&b, " VRRP Instance = %s\n", i.Name)
		fmt.Fprintf(&b, "   State = %s\n", i.State)
		fmt.Fprintf(&b, "   Interface = %s\n", i.Interface)
		fmt.Fprintf(&b, "   Virtual Router ID = %d\n", i.VRID)
		fmt.Fprintf(&b, "   Priority = %d\n", i.BasePriority)
		fmt.Fprintf(&b, "   Effective priority = %d\n", i.Priority)
		fmt.Fprintf(&b, "   Address family = IPv%d\n", i.Family)
		if i.SyncGroup != "" {
			fmt.Fprintf(&b, "   Sync group = %s\n", i.SyncGroup)
		}
	}
	l.writeFile(l.DataFile, b.Bytes())
}

// dumpStats writes the per-instance counters to StatsFile (SIGUSR2).
func (l *Loop) dumpStats() {
	if l.StatsFile == "" {
		return
	}
	d := l.dispatcherFor()
	var b bytes.Buffer
	for _, i := range l.Engine.Instances() {
		fmt.Fprintf(&b, "VRRP Instance: %s\n", i.Name)
		c := d.counters[i.Name]
		names := make([]string, 0, len(c))
		for n := range c {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(&b, "  %s: %d\n", n, c[n])
		}
	}
	l.writeFile(l.StatsFile, b.Bytes())
}

func (l *Loop) writeFile(path string, data []byte) {
	log := l.Log
	go func() {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			log.Error().Err(err).Str("file", path).Msg("cannot write dump")
			return
		}
		log.Info().Str("file", path).Msg("dump written")
	}()
}
