package effpool

import "testing"

func TestGetReusesAfterReset(t *testing.T) {
	var p Pool[struct{ X int }]
	a := p.Get()
	a.X = 7
	b := p.Get()
	if a == b {
		t.Fatal("two Gets before a Reset returned the same value")
	}
	p.Reset()
	c := p.Get()
	if c != a {
		t.Error("Get after Reset did not reuse the first value")
	}
	if c.X != 0 {
		t.Errorf("reused value not zeroed: %d", c.X)
	}
	if n := testing.AllocsPerRun(100, func() { p.Reset(); p.Get(); p.Get() }); n != 0 {
		t.Errorf("steady state allocates %v per run", n)
	}
}
