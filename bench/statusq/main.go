// Command statusq times `vigil status` requests at the control socket,
// without a process start, for bench/status.sh: it sends N text status
// requests one after the other, reads each whole answer, and prints each
// round trip in milliseconds on one line, then the answer's size.
//
//	statusq -n 20 /run/vigil/status.sock
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/vigil-ha/vigil/status"
)

// countWriter counts the bytes of an answer and drops them.
type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

func main() {
	n := flag.Int("n", 20, "requests")
	timeout := flag.Duration("timeout", 5*time.Second, "per request")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: statusq [-n N] SOCKET")
		os.Exit(2)
	}
	var times []string
	var size countWriter
	for i := 0; i < *n; i++ {
		size = 0
		t0 := time.Now()
		if err := status.QueryText(flag.Arg(0), *timeout, io.Writer(&size)); err != nil {
			fmt.Fprintf(os.Stderr, "statusq: %v\n", err)
			os.Exit(1)
		}
		times = append(times, fmt.Sprintf("%.1f", float64(time.Since(t0).Microseconds())/1000))
	}
	fmt.Printf("%s\n%d bytes\n", strings.Join(times, " "), size)
}
