// Package e2e runs vigil (and keepalived) in network-namespace labs and
// checks failover end to end: addresses, adverts and gratuitous ARPs on a
// real bridge, neighbour tables of a third node. The tests need root and
// skip otherwise; each builds its own lab and removes it.
package e2e

import (
	"os"
	"testing"

	"github.com/vigil-ha/vigil/lab"
)

func TestMain(m *testing.M) {
	code := m.Run()
	lab.RemoveBuild()
	os.Exit(code)
}
