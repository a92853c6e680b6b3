package replay

import (
	"cmp"
	"slices"
)

// Backlog is the number of items waiting for the writer goroutine (at
// most Options.QueueSize records, plus the odd control item).
func (w *Writer) Backlog() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.pending)
}

// sortedKeys returns m's keys in order, so that output never depends on
// map iteration.
func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
