package timerq

import (
	"slices"
	"testing"
)

// Deadline order, equal deadlines in set order (a re-set counts as set
// now), cancels honoured, and Armed leaves the queue intact.
func TestOrder(t *testing.T) {
	var q Queue
	q.Set("a", 20)
	q.Set("b", 10)
	q.Set("c", 20)
	q.Set("d", 30)
	q.Set("a", 20) // re-set: now after c
	q.Cancel("d")
	q.Cancel("nope")
	keys, _ := q.Armed()
	if !slices.Equal(keys, []string{"b", "c", "a"}) {
		t.Fatalf("armed %v", keys)
	}
	if _, _, ok := q.PopDue(5); ok {
		t.Fatal("a timer due before its deadline")
	}
	var got []string
	for {
		k, _, ok := q.PopDue(100)
		if !ok {
			break
		}
		got = append(got, k)
	}
	if !slices.Equal(got, []string{"b", "c", "a"}) || q.Len() != 0 {
		t.Fatalf("fired %v, %d left", got, q.Len())
	}
}
