// Package effpool holds reusable effect values for the engine's reducers.
// Everything taken since the last Reset belongs to the effects the current
// Step returns; reusing the values on the next Step is what keeps the hot
// paths allocation-free (effects are valid only until the next Step).
package effpool

// Pool hands out reusable values of one effect type.
type Pool[T any] struct {
	items []*T
	n     int
}

// Get returns a zeroed value, reusing one handed out before the last Reset
// when there is one.
func (p *Pool[T]) Get() *T {
	var zero T
	if p.n < len(p.items) {
		v := p.items[p.n]
		p.n++
		*v = zero
		return v
	}
	v := new(T)
	p.items = append(p.items, v)
	p.n++
	return v
}

// Reset makes every value handed out so far available again.
func (p *Pool[T]) Reset() { p.n = 0 }
