// Command mkdeb builds vigil's Debian package (make deb):
//
//	go run ./dist/mkdeb -binary bin/vigil -out dist
//
// It writes dist/vigil_VERSION_amd64.deb from dist/nfpm.yaml with nfpm
// (as a library, pinned in go.mod). VERSION is the number in
// `vigil --version` (daemon.Version) as this program is built: make deb
// builds both with the same -ldflags.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/vigil-ha/vigil/daemon"
	"github.com/vigil-ha/vigil/dist"
)

func main() {
	dir := flag.String("dist", "dist", "the dist directory (nfpm.yaml, unit, man page)")
	bin := flag.String("binary", "bin/vigil", "the vigil binary to package")
	out := flag.String("out", "dist", "where to write the .deb")
	flag.Parse()
	p, err := dist.BuildDeb(dist.DebOptions{Dir: *dir, Binary: *bin, Version: daemon.VersionNumber(), OutDir: *out})
	if err != nil {
		fmt.Fprintf(os.Stderr, "mkdeb: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(p)
}
