package check

import (
	"context"

	"github.com/vigil-ha/vigil/events/conf"
)

// checkTCP is TCP_CHECK: the server is up when a connection completes
// within the timeout.
func checkTCP(ctx context.Context, target Target, cfg *conf.Checker) Result {
	conn, err := dial(ctx, "tcp", target, cfg)
	if err != nil {
		return fail("TCP connect to %s: %v", target, err)
	}
	conn.Close()
	return success("TCP connect to " + target.String() + " succeeded")
}
