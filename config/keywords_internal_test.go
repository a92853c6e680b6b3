package config

import (
	"sort"
	"testing"
)

// TestGlobalOtherInTable: the global_defs keywords the parser keeps
// verbatim in GlobalDefs.Other (recognised, not modelled) are all in the
// keyword table, so none is accepted silently.
func TestGlobalOtherInTable(t *testing.T) {
	var keys []string
	for k := range globalOther {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if _, ok := LookupKeyword("global_defs", k); !ok {
			t.Errorf("global_defs %s is kept in GlobalDefs.Other but is not in the keyword table", k)
		}
	}
}
