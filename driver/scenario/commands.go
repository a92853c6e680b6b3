package scenario

import "sort"

// command is one directive of the scenario language: what it accepts and
// its handler (in cmd_<name>.go).
type command struct {
	spec spec
	run  func(h *Harness, a *params) error
}

// commandTable is every command, by name.
var commandTable = map[string]command{
	"config":     {configSpec, (*Harness).cmdConfig},
	"reload":     {configSpec, (*Harness).cmdConfig},
	"start":      {startSpec, (*Harness).cmdStart},
	"stop":       {stopSpec, (*Harness).cmdStop},
	"link":       {linkSpec, (*Harness).cmdLink},
	"addr":       {addrSpec, (*Harness).cmdAddr},
	"route":      {routeSpec, (*Harness).cmdRoute},
	"rule":       {ruleSpec, (*Harness).cmdRule},
	"advert":     {advertSpec, (*Harness).cmdAdvert},
	"script":     {scriptSpec, (*Harness).cmdScript},
	"track-file": {trackFileSpec, (*Harness).cmdTrackFile},
	"process":    {processSpec, (*Harness).cmdProcess},
	"bfd":        {bfdSpec, (*Harness).cmdBFD},
	"bfd-rx":     {bfdRxSpec, (*Harness).cmdBFDRx},
	"joined":     {joinedSpec, (*Harness).cmdJoined},
	"health":     {healthSpec, (*Harness).cmdHealth},
	"check":      {checkSpec, (*Harness).cmdCheck},
	"fire":       {fireSpec, (*Harness).cmdFire},
	"advance":    {advanceSpec, (*Harness).cmdAdvance},
	"status":     {statusSpec, (*Harness).cmdStatus},
	"timers":     {timersSpec, (*Harness).cmdTimers},
	"table":      {tableSpec, (*Harness).cmdTable},
}

func commandNames() []string {
	var ns []string
	for n := range commandTable {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}
