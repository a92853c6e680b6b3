package dist

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/vigil-ha/vigil/daemon"
)

// debSample is a Debian sample configuration vigil accepts; the install
// test checks it with the packaged vigil.
const debSample = "/usr/share/doc/keepalived/samples/keepalived.conf.sample"

var (
	debOnce sync.Once
	debPath string
	debErr  error
	debDir  string
)

// buildTestDeb builds vigil and its package once per test binary.
func buildTestDeb(t *testing.T) string {
	t.Helper()
	if os.Getenv("VIGIL_DEB_TEST") == "" {
		t.Skip("the package test runs under make deb-test (VIGIL_DEB_TEST=1): it builds vigil and a .deb")
	}
	for _, tool := range []string{"dpkg-deb", "dpkg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: not a Debian system", tool)
		}
	}
	debOnce.Do(func() { debPath, debErr = buildDeb() })
	if debErr != nil {
		t.Fatal(debErr)
	}
	return debPath
}

// buildDeb builds vigil (stripped, as make deb does; without -trimpath,
// which would rebuild every package rather than reuse the build cache)
// and the package, in a directory TestMain removes.
func buildDeb() (string, error) {
	dir, err := os.MkdirTemp("", "vigil-debtest")
	if err != nil {
		return "", err
	}
	debDir = dir
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		gobin = "go"
	}
	bin := filepath.Join(dir, "vigil")
	build := exec.Command(gobin, "build", "-ldflags=-s -w", "-o", bin, "../cmd/vigil")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return BuildDeb(DebOptions{Dir: ".", Binary: bin, Version: daemon.VersionNumber(), OutDir: dir})
}

func TestMain(m *testing.M) {
	code := m.Run()
	if debDir != "" {
		os.RemoveAll(debDir)
	}
	os.Exit(code)
}

func dpkgDeb(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("dpkg-deb", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-deb %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestDebContents: the package's control fields and files, read back
// with dpkg-deb: the version is `vigil --version`'s, it takes
// keepalived's place, and it carries the binary, the keepalived link,
// the unit, the gzipped man page and /etc/default/vigil (a conffile).
func TestDebContents(t *testing.T) {
	deb := buildTestDeb(t)
	wantVersion := strings.Replace(daemon.VersionNumber(), "-", "~", 1)
	if base := filepath.Base(deb); base != "vigil_"+wantVersion+"_amd64.deb" {
		t.Errorf("package file %s, want vigil_%s_amd64.deb", base, wantVersion)
	}
	fi, err := os.Stat(deb)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d bytes", filepath.Base(deb), fi.Size())
	for field, want := range map[string]string{
		"Package": "vigil", "Version": wantVersion, "Architecture": "amd64",
		"Conflicts": "keepalived", "Replaces": "keepalived", "Provides": "keepalived",
		"Depends": "libc6 (>= 2.34)",
	} {
		if got := strings.TrimSpace(dpkgDeb(t, "-f", deb, field)); got != want {
			t.Errorf("%s: %q, want %q", field, got, want)
		}
	}
	info := dpkgDeb(t, "-I", deb)
	for _, s := range []string{"conffiles", "postinst", "prerm", "postrm"} {
		if !strings.Contains(info, s) {
			t.Errorf("control archive lacks %s:\n%s", s, info)
		}
	}
	list := dpkgDeb(t, "-c", deb)
	for _, want := range []string{
		"-rwxr-xr-x root/root", "./usr/sbin/vigil\n",
		"./usr/sbin/keepalived -> vigil\n",
		"./lib/systemd/system/vigil.service\n",
		"./usr/share/man/man8/vigil.8.gz\n",
		"./etc/default/vigil\n",
		"drwx------ root/root", "./var/lib/vigil/\n",
	} {
		if !strings.Contains(list, want) {
			t.Errorf("package lacks %q:\n%s", want, list)
		}
	}
	// The files themselves are this directory's.
	x := t.TempDir()
	dpkgDeb(t, "-x", deb, x)
	same := func(pkg, src string, gz bool) {
		got, err := os.ReadFile(filepath.Join(x, pkg))
		if err != nil {
			t.Fatal(err)
		}
		if gz {
			zr, err := gzip.NewReader(bytes.NewReader(got))
			if err != nil {
				t.Fatalf("%s: %v", pkg, err)
			}
			if got, err = io.ReadAll(zr); err != nil {
				t.Fatalf("%s: %v", pkg, err)
			}
		}
		want, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s", pkg, src)
		}
	}
	same("lib/systemd/system/vigil.service", "vigil.service", false)
	same("usr/share/man/man8/vigil.8.gz", "vigil.8", true)
	same("etc/default/vigil", "vigil.default", false)
	if c := strings.TrimSpace(dpkgDeb(t, "--ctrl-tarfile", deb)); c == "" {
		t.Error("no control tarball")
	}
}

// installScript runs inside `unshare --mount --pid --net --fork`: a tmpfs
// holds the upper layer of an overlay of /, the package is installed in a
// chroot of that overlay, and everything vanishes with the namespace. The
// host's dpkg database, /usr and processes are never touched: the chroot
// has its own /proc (a new PID namespace: no host process can be signalled),
// an empty /run (systemd is "not running": no service is started) and a
// policy-rc.d that forbids init scripts.
const installScript = `set -eu
T=$1; DEB=$2; SAMPLE=$3
mount --make-rprivate /
mount -t tmpfs vigil-deb-test "$T"
mkdir "$T/upper" "$T/work" "$T/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$T/upper,workdir=$T/work" "$T/root"
R=$T/root
mount -t proc proc "$R/proc"
mount -t tmpfs tmpfs "$R/run"
mount -t tmpfs tmpfs "$R/tmp"
mount --bind /dev "$R/dev"
printf '#!/bin/sh\nexit 101\n' > "$R/usr/sbin/policy-rc.d"; chmod 755 "$R/usr/sbin/policy-rc.d"
cp "$DEB" "$R/tmp/vigil.deb"
cp "$SAMPLE" "$R/tmp/keepalived.conf"
# The sample's interface, in this namespace only, so that keepalived -t's
# host checks (interfaces exist) pass as they would on a real router.
ip link add eth0 type veth peer name eth0-peer
ip link set eth0 up
chroot "$R" /bin/sh -eu -c '
step() { echo "== $*"; }
export DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin
step "install: dpkg removes keepalived in favour of vigil (Conflicts + Replaces)"
had=no
if dpkg-query -W -f="\${Status}" keepalived 2>/dev/null | grep -q "install ok installed"; then had=yes; fi
dpkg -i /tmp/vigil.deb >/tmp/install.log 2>&1 || { cat /tmp/install.log; exit 1; }
cat /tmp/install.log
if [ $had = yes ]; then
	grep -q "removing keepalived in favour of vigil" /tmp/install.log || { echo "keepalived not replaced"; exit 1; }
	if dpkg-query -W -f="\${Status}" keepalived | grep -q "install ok installed"; then echo "keepalived still installed"; exit 1; fi
	test -L /usr/sbin/keepalived || { echo "/usr/sbin/keepalived is not vigil'"'"'s link"; exit 1; }
fi
dpkg-query -W -f="\${Status} \${Version}\n" vigil
dpkg-query -W -f="\${Status}" vigil | grep -qx "install ok installed"
step "version"
/usr/sbin/vigil --version
step "check"
vigil check -f /tmp/keepalived.conf
step "keepalived -t (the link)"
keepalived -t -f /tmp/keepalived.conf
step "man"
test -s /usr/share/man/man8/vigil.8.gz
if command -v man >/dev/null; then man -w vigil; fi
step "enabled"
test -L /etc/systemd/system/multi-user.target.wants/vigil.service || { echo "not enabled"; exit 1; }
grep -q "^DAEMON_ARGS=" /etc/default/vigil
step "remove"
dpkg -r vigil
if test -e /usr/sbin/vigil || test -e /lib/systemd/system/vigil.service; then echo "files left after dpkg -r"; exit 1; fi
test -f /etc/default/vigil
step "purge"
dpkg -P vigil
if test -e /etc/default/vigil || test -e /var/lib/vigil; then echo "left after purge"; exit 1; fi
if dpkg-query -W vigil >/dev/null 2>&1; then dpkg-query -W vigil; fi
echo "== ok"
'
`

// TestDebInstall installs the package in a throwaway overlay root and
// asserts each step: dpkg -i removes keepalived in favour of vigil
// (Conflicts + Replaces), the packaged vigil checks a Debian
// sample configuration (also as keepalived -t), the unit is enabled,
// dpkg -r removes the files but keeps the conffile, and dpkg -P purges.
func TestDebInstall(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("installing the package in an overlay of / needs root")
	}
	deb := buildTestDeb(t)
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("unshare (util-linux) not installed")
	}
	if _, err := os.Stat(debSample); err != nil {
		t.Skipf("%s: %v (package keepalived: scripts/install-deps.sh installs it)", debSample, err)
	}
	// A directory only this test uses, on the host, as the mount point of
	// the tmpfs; it is empty again when the namespace goes.
	mnt := t.TempDir()
	cmd := exec.Command("unshare", "--mount", "--pid", "--net", "--uts", "--ipc", "--fork",
		"/bin/sh", "-c", installScript, "install", mnt, deb, debSample)
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("install test: %v", err)
	}
	if !strings.Contains(string(out), "== ok") {
		t.Fatal("the install script did not finish")
	}
	// Nothing left on the host.
	if left, _ := os.ReadDir(mnt); len(left) > 0 {
		t.Errorf("left on the host in %s: %v", mnt, left)
	}
	if _, err := os.Stat("/usr/sbin/vigil"); err == nil {
		t.Errorf("/usr/sbin/vigil exists on the host")
	}
}
