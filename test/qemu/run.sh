#!/usr/bin/env bash
# The slow qemu lane: boot Debian's own kernel (which has IPVS, unlike the
# kernels CI and developers run on) with a tiny busybox initramfs, load the
# ip_vs modules, run the adapters/ipvs integration test and the daemon's
# IPVS tests (daemon.TestDaemonIPVSInVM: the checker daemon in-process
# against HTTP real servers on loopback addresses, driving the kernel
# table; daemon.TestDaemonSyncDaemonInVM: two directors in namespaces
# syncing a connection with lvs_sync_daemon across a failover;
# daemon.TestDaemonSyncDaemonPairInVM: lvs_sync_daemon without a VRRP
# instance, both daemons replacing a leftover one;
# daemon.TestDaemonIPVSRestartInVM: the table a SIGKILLed daemon left,
# taken over by the next one;
# daemon.TestDaemonClockStepInVM: a VRRP pair in namespaces while the
# guest's CLOCK_REALTIME is stepped by ±1 h and ±1 day, which only the
# guest may do; daemon.TestDaemonBFDCheckInVM: a BFD_CHECK real server
# following its BFD session to a second daemon in a namespace) inside the
# VM, and print one result line covering both:
#
#   QEMU-LANE: PASS (…)   or   QEMU-LANE: FAIL (…)
#
# Exit status 0 on PASS. Everything it needs is installed or downloaded here
# (apt-get for qemu and busybox, apt-get download for the kernel), cached
# under test/qemu/.cache (gitignored; VIGIL_QEMU_CACHE overrides), so a
# second run only rebuilds the test binary and the initramfs.
#
# Usage: test/qemu/run.sh [-v]     (-v also prints the VM's console)
# Needs root for apt-get install (skipped when the tools are present).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${VIGIL_QEMU_CACHE:-$here/.cache}"
verbose=0
[[ "${1:-}" == "-v" ]] && verbose=1
start=$(date +%s.%N)

log() { printf 'qemu-lane: %s\n' "$*" >&2; }
fail() { printf 'QEMU-LANE: FAIL (%s)\n' "$*"; exit 1; }

mkdir -p "$cache"

# 1. Host tools: qemu, a static busybox (the initramfs userland), cpio, and
#    kmod's depmod (the kernel package ships no modules.dep: dpkg's
#    postinst would generate it).
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || need+=(busybox-static)
command -v cpio >/dev/null || need+=(cpio)
command -v depmod >/dev/null || [[ -x /sbin/depmod ]] || need+=(kmod)
if ((${#need[@]})); then
	log "installing ${need[*]}"
	if [[ ! -d /var/lib/apt/lists/partial || -z "$(ls /var/lib/apt/lists/ 2>/dev/null | grep -v -e partial -e lock)" ]]; then
		apt-get update -qq
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null ||
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null; } ||
		fail "apt-get install ${need[*]}"
fi
busybox=/bin/busybox

# 2. Debian's kernel: linux-image-amd64 depends on the versioned package
#    that holds vmlinuz and the modules.
kdir="$cache/kernel"
if [[ ! -f "$kdir/.done" ]]; then
	log "downloading the Debian kernel"
	rm -rf "$kdir" "$cache/debs"
	mkdir -p "$cache/debs" "$kdir"
	(cd "$cache/debs" && apt-get download -qq linux-image-amd64 2>/dev/null) ||
		{ apt-get update -qq && (cd "$cache/debs" && apt-get download -qq linux-image-amd64 2>/dev/null); } ||
		fail "apt-get download linux-image-amd64"
	meta="$(ls "$cache"/debs/linux-image-amd64_*.deb)"
	pkg="$(dpkg-deb -f "$meta" Depends | tr ',' '\n' | grep -o 'linux-image-[0-9][^ ]*' | head -1)"
	[[ -n "$pkg" ]] || fail "cannot find the versioned kernel package in $meta"
	(cd "$cache/debs" && apt-get download -qq "$pkg" 2>/dev/null) || fail "apt-get download $pkg"
	dpkg-deb -x "$(ls "$cache"/debs/"$pkg"_*.deb)" "$kdir"
	kv="$(ls "$kdir/lib/modules" | head -1)"
	PATH="$PATH:/sbin:/usr/sbin" depmod -b "$kdir" "$kv" || fail "depmod for $kv"
	touch "$kdir/.done"
fi
kver="$(ls "$kdir/lib/modules" | head -1)"
vmlinuz="$kdir/boot/vmlinuz-$kver"
[[ -f "$vmlinuz" ]] || fail "no kernel image at $vmlinuz"
moddir="$kdir/lib/modules/$kver"

# 3. The test binaries, static so they run on busybox.
log "building the ipvs and daemon integration tests"
work="$cache/work"
rm -rf "$work"
mkdir -p "$work/root"/{bin,dev,proc,sys,tmp,run,lib/modules}
(cd "$repo" && CGO_ENABLED=0 go test -c -o "$work/root/ipvs.test" ./adapters/ipvs) ||
	fail "go test -c ./adapters/ipvs"
(cd "$repo" && CGO_ENABLED=0 go test -c -o "$work/root/daemon.test" ./daemon) ||
	fail "go test -c ./daemon"

# 4. The modules: ip_vs with the schedulers the test uses, plus everything
#    they depend on (modules.dep), in load order, decompressed because
#    busybox insmod cannot read .ko.xz.
# crc32c_generic first: libcrc32c (under nf_conntrack) needs the crc32c
# crypto algorithm at init, a soft dependency modules.dep does not list.
want=(crc32c_generic ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_sh veth)
declare -A seen=()
order=()
dep_of() { # module path (relative) → its dependencies (relative)
	awk -v m="$1:" '$1 == m { for (i = 2; i <= NF; i++) print $i }' "$moddir/modules.dep"
}
visit() { # post-order: dependencies first
	local rel="$1" d
	[[ -n "${seen[$rel]:-}" ]] && return
	seen[$rel]=1
	for d in $(dep_of "$rel"); do visit "$d"; done
	order+=("$rel")
}
for m in "${want[@]}"; do
	rel="$(awk -F: -v m="$m" '{ n = $1; sub(/.*\//, "", n); sub(/\.ko(\.xz|\.zst|\.gz)?$/, "", n); if (n == m) { print $1; exit } }' "$moddir/modules.dep")"
	[[ -n "$rel" ]] || fail "module $m not in $moddir/modules.dep"
	visit "$rel"
done
: >"$work/root/modules.order"
for rel in "${order[@]}"; do
	base="$(basename "$rel")"
	case "$base" in
	*.ko.xz) xz -dc "$moddir/$rel" >"$work/root/lib/modules/${base%.xz}" ;;
	*.ko.zst) zstd -qdc "$moddir/$rel" >"$work/root/lib/modules/${base%.zst}" ;;
	*.ko.gz) gzip -dc "$moddir/$rel" >"$work/root/lib/modules/${base%.gz}" ;;
	*.ko) cp "$moddir/$rel" "$work/root/lib/modules/$base" ;;
	*) fail "unexpected module file $rel" ;;
	esac
	base="${base%.xz}"; base="${base%.zst}"; base="${base%.gz}"
	echo "$base" >>"$work/root/modules.order"
done

# 5. The initramfs: busybox, the modules, the test and an init that runs it.
cp "$busybox" "$work/root/bin/busybox"
for a in sh mount insmod poweroff cat echo sleep ip dmesg tail grep mkdir ln; do ln -s busybox "$work/root/bin/$a"; done
cat >"$work/root/init" <<'EOF'
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
mkdir -p /var && ln -s /run /var/run
ip link set lo up
for m in $(cat /modules.order); do
	insmod /lib/modules/$m || { echo "VM: insmod $m failed:"; dmesg | tail -n 3; }
done
echo "VM: modules loaded"
/ipvs.test -test.v -test.count=1 -test.timeout=60s > /tmp/out 2>&1
rc=$?
cat /tmp/out
VIGIL_QEMU_DAEMON=1 /daemon.test -test.v -test.count=1 -test.timeout=400s -test.run '^TestDaemon(IPVS|IPVSNamespace|IPVSRestart|SyncDaemon|SyncDaemonPair|ClockStep|BFDCheck)InVM$' > /tmp/dout 2>&1
drc=$?
cat /tmp/dout
# TestKernelTable, TestKernelTimeouts, TestKernelSyncDaemon,
# TestDaemonIPVSInVM, TestDaemonIPVSNamespaceInVM, TestDaemonIPVSRestartInVM,
# TestDaemonSyncDaemonInVM, TestDaemonSyncDaemonPairInVM,
# TestDaemonClockStepInVM and
# TestDaemonBFDCheckInVM must have run (a skip means the modules did not
# load).
if [ $rc -eq 0 ] && grep -q '^--- PASS: TestKernelTable' /tmp/out &&
	grep -q '^--- PASS: TestKernelTimeouts' /tmp/out && grep -q '^--- PASS: TestKernelSyncDaemon' /tmp/out &&
	[ $drc -eq 0 ] && grep -q '^--- PASS: TestDaemonIPVSInVM' /tmp/dout &&
	grep -q '^--- PASS: TestDaemonIPVSNamespaceInVM' /tmp/dout && grep -q '^--- PASS: TestDaemonSyncDaemonInVM' /tmp/dout &&
	grep -q '^--- PASS: TestDaemonSyncDaemonPairInVM' /tmp/dout &&
	grep -q '^--- PASS: TestDaemonIPVSRestartInVM' /tmp/dout &&
	grep -q '^--- PASS: TestDaemonClockStepInVM' /tmp/dout && grep -q '^--- PASS: TestDaemonBFDCheckInVM' /tmp/dout; then
	echo "VM-RESULT: PASS"
else
	echo "VM-RESULT: FAIL ipvs rc=$rc daemon rc=$drc"
fi
poweroff -f
EOF
chmod +x "$work/root/init"
(cd "$work/root" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) >"$work/initramfs.gz"

# 6. Boot. KVM when the host offers it, else TCG software emulation.
# TCG software emulation by default: it works everywhere (about 6 s for
# boot and test). VIGIL_QEMU_ACCEL=kvm uses KVM where it really works.
accel="${VIGIL_QEMU_ACCEL:-tcg}"
cpu=max
[[ "$accel" == kvm ]] && cpu=host
log "booting $kver ($accel)"
out="$work/console.log"
boot_start=$(date +%s.%N)
timeout "${VIGIL_QEMU_TIMEOUT:-540}" qemu-system-x86_64 -machine "accel=$accel" -cpu "$cpu" -m 512 -smp 1 -nographic -no-reboot \
	-kernel "$vmlinuz" -initrd "$work/initramfs.gz" \
	-append 'console=ttyS0 panic=-1 quiet loglevel=3' \
	</dev/null >"$out" 2>&1 || true
end=$(date +%s.%N)
((verbose)) && cat "$out"
boot=$(awk -v a="$boot_start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
total=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
if grep -q '^VM-RESULT: PASS' "$out"; then
	npass=$(grep -c -e '^ *--- PASS' "$out" || true)
	printf 'QEMU-LANE: PASS (kernel %s, %s tests passed, boot+test %ss, total %ss)\n' "$kver" "$npass" "$boot" "$total"
	exit 0
fi
((verbose)) || tail -n 60 "$out"
fail "kernel $kver, see $out"
