package dist

import (
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // the deb packager
)

// DebOptions say what BuildDeb packages.
type DebOptions struct {
	// Dir is this directory (dist/): nfpm.yaml, the unit, the man page,
	// the defaults file and the maintainer scripts.
	Dir string
	// Binary is the vigil binary to ship as /usr/sbin/vigil.
	Binary string
	// Version is the package's version: daemon.VersionNumber() of the
	// binary ("0.1.0-dev" becomes the Debian version 0.1.0~dev).
	Version string
	// OutDir receives vigil_VERSION_amd64.deb.
	OutDir string
	// MTime stamps the package's files (zero: SOURCE_DATE_EPOCH, else
	// now), for reproducible packages.
	MTime time.Time
}

// BuildDeb builds the Debian package described by Dir/nfpm.yaml and
// returns its path.
func BuildDeb(o DebOptions) (string, error) {
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return "", fmt.Errorf("deb: %w", err)
	}
	bin, err := filepath.Abs(o.Binary)
	if err != nil {
		return "", fmt.Errorf("deb: %w", err)
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("deb: the vigil binary: %w", err)
	}
	tmp, err := os.MkdirTemp("", "vigil-deb")
	if err != nil {
		return "", fmt.Errorf("deb: %w", err)
	}
	defer os.RemoveAll(tmp)
	man := filepath.Join(tmp, "vigil.8.gz")
	if err := gzipFile(filepath.Join(dir, "vigil.8"), man); err != nil {
		return "", fmt.Errorf("deb: man page: %w", err)
	}
	vars := map[string]string{"DIST": dir, "VIGIL_BINARY": bin, "VIGIL_MAN": man, "VIGIL_VERSION": o.Version}
	cfg, err := nfpm.ParseFileWithEnvMapping(filepath.Join(dir, "nfpm.yaml"), func(k string) string { return vars[k] })
	if err != nil {
		return "", fmt.Errorf("deb: %s: %w", filepath.Join(dir, "nfpm.yaml"), err)
	}
	info, err := cfg.Get("deb")
	if err != nil {
		return "", fmt.Errorf("deb: %w", err)
	}
	info.MTime = o.MTime
	for _, p := range []*string{&info.Scripts.PostInstall, &info.Scripts.PreRemove, &info.Scripts.PostRemove} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	info = nfpm.WithDefaults(info)
	if err := nfpm.Validate(info); err != nil {
		return "", fmt.Errorf("deb: %w", err)
	}
	pkg, err := nfpm.Get("deb")
	if err != nil {
		return "", fmt.Errorf("deb: %w", err)
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return "", fmt.Errorf("deb: %w", err)
	}
	out := filepath.Join(o.OutDir, pkg.ConventionalFileName(info))
	f, err := os.Create(out)
	if err != nil {
		return "", fmt.Errorf("deb: %w", err)
	}
	if err := pkg.Package(info, f); err != nil {
		f.Close()
		os.Remove(out)
		return "", fmt.Errorf("deb: %s: %w", out, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("deb: %s: %w", out, err)
	}
	return out, nil
}

// gzipFile compresses src into dst as gzip -9n does: no name nor time in
// the header, so the same page gives the same bytes.
func gzipFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err != nil {
		f.Close()
		return err
	}
	if _, err := zw.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
