package replay

import (
	"cmp"
	"slices"
)

// backlog is the number of items waiting for the writer goroutine.
func (w *Writer) backlog() int {
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
