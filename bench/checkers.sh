#!/usr/bin/env bash
# Health checking at scale: vigil's checkers and keepalived's (2.2.7,
# `keepalived -C`), on the same configuration, in the same qemu guest
# (Debian's kernel, which has IPVS, under the same emulation), one after
# the other, alternating.
#
# The configuration (bench/rsfarm conf): VS virtual servers (default 100,
# 10.77.200.v:80) of RS real servers each (default 100, 10.77.v.r:8080:
# 10,000 in all), delay_loop 1, connect_timeout 1, retry 0,
# inhibit_on_failure; TCP_CHECK, then HTTP_GET with the MD5 digest of the
# farm's fixed body. The real servers (bench/rsfarm run) are one listener
# per address, the addresses /32s on the guest's lo. For each daemon, the
# farm starts it, waits until the kernel's table holds every real server
# with a weight, lets it settle (WARM, default 5 s), then over WINDOW
# (default 30 s):
#   checks/s   connections the real servers accepted, per second (what
#              the daemon actually did; configured: VS*RS/delay_loop)
#   cpu        utime+stime of the daemon and its children (keepalived's
#              checker process), % of one guest CPU
#   rss        VmRSS of those processes at the end
#   down p50/p99/max   every EVERY (default 200 ms) one more real server's
#              listener is closed; the delay until its weight in the
#              kernel's IPVS table (read back over generic netlink, every
#              10 ms) is 0. Bound: delay_loop + connect_timeout = 2 s.
#   up p50/p99 the listener reopened at once; the delay until the weight
#              is back
#   farm_cpu   the farm's own CPU (servers and polling), same for both
#
# The guest: -smp 2, MEM (default 3072 MB), TCG software emulation
# (VIGIL_QEMU_ACCEL=kvm where KVM works). The figures are the emulated
# machine's: compare the two daemons' ratio, not the absolute numbers.
#
# usage: sudo bench/checkers.sh [RUNS]          (default 1 run per daemon per check)
#   SIZES="100x100 10x100"   virtual x real servers, each size in turn
#   CHECKS="tcp http"        checker types
#   ONLY=vigil|keepalived    one daemon only
#   WINDOW=30 WARM=5 EVERY=200ms
#   PROFILE=1     fetch a 30 s CPU profile of vigil during each of its
#                 windows (--debug-pprof in the guest) and print its top
#                 functions; the profiles are kept in the run directory
#   KEEPTMP=1     keep the run directory (console log, profiles)
#   LOGTAIL=N     print the last N lines of each daemon's log
#   VIGIL_ARGS    extra `vigil run` options
# Needs the qemu lane's cached kernel (run `make qemu` once) and root
# (qemu, apt-get for the tools as test/qemu/run.sh does).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cache="${VIGIL_QEMU_CACHE:-$repo/test/qemu/.cache}"
runs=${1:-1}
sizes=${SIZES:-100x100 10x100}
checks=${CHECKS:-tcp http}
window=${WINDOW:-30}
warm=${WARM:-5}
every=${EVERY:-200ms}
mem=${MEM:-3072}
only=${ONLY:-}
profile=${PROFILE:-0}

fail() { printf 'checkers.sh: %s\n' "$*" >&2; exit 1; }
command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 missing: run test/qemu/run.sh once (it installs it)"
[[ -x /bin/busybox ]] || fail "busybox-static missing: run test/qemu/run.sh once"
[[ -x /usr/sbin/keepalived ]] || fail "/usr/sbin/keepalived missing (apt-get install keepalived)"
kdir="$cache/kernel"
[[ -f "$kdir/.done" ]] || fail "no cached kernel in $kdir: run test/qemu/run.sh (make qemu) once"
kver="$(ls "$kdir/lib/modules" | head -1)"
vmlinuz="$kdir/boot/vmlinuz-$kver"
moddir="$kdir/lib/modules/$kver"

tmp="$(mktemp -d /tmp/vgcheckers.XXXXXX)"
cleanup() { [[ "${KEEPTMP:-0}" == 1 ]] && echo "kept $tmp" >&2 || rm -rf "$tmp"; }
trap cleanup EXIT
root="$tmp/root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,run,etc,lib/modules}

# vigil and the farm, static; keepalived with its shared libraries.
(cd "$repo" && CGO_ENABLED=0 go build -o "$root/vigil" ./cmd/vigil) || fail "go build ./cmd/vigil"
(cd "$repo" && CGO_ENABLED=0 go build -o "$root/rsfarm" ./bench/rsfarm) || fail "go build ./bench/rsfarm"
cp /usr/sbin/keepalived "$root/keepalived"
for lib in $(ldd /usr/sbin/keepalived | grep -o '/[^ ]*'); do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"

configs=""
for size in $sizes; do
	nvs=${size%x*}
	nrs=${size#*x}
	for c in $checks; do
		"$root/rsfarm" conf -check "$c" -vs "$nvs" -rs "$nrs" >"$root/conf-$size-$c"
		configs+=" $size-$c"
	done
done

# ip_vs with rr and their dependencies, in load order (as test/qemu/run.sh).
want=(crc32c_generic ip_vs ip_vs_rr)
declare -A seen=()
order=()
dep_of() { awk -v m="$1:" '$1 == m { for (i = 2; i <= NF; i++) print $i }' "$moddir/modules.dep"; }
visit() {
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
: >"$root/modules.order"
for rel in "${order[@]}"; do
	base="$(basename "$rel")"
	case "$base" in
	*.ko.xz) xz -dc "$moddir/$rel" >"$root/lib/modules/${base%.xz}" ;;
	*.ko.zst) zstd -qdc "$moddir/$rel" >"$root/lib/modules/${base%.zst}" ;;
	*.ko.gz) gzip -dc "$moddir/$rel" >"$root/lib/modules/${base%.gz}" ;;
	*.ko) cp "$moddir/$rel" "$root/lib/modules/$base" ;;
	esac
	base="${base%.xz}"; base="${base%.zst}"; base="${base%.gz}"
	echo "$base" >>"$root/modules.order"
done

cp /bin/busybox "$root/bin/busybox"
for a in sh mount insmod poweroff cat echo sleep ip dmesg tail grep mkdir ln rm head syslogd; do ln -s busybox "$root/bin/$a"; done

daemons="vigil keepalived"
[[ -n "$only" ]] && daemons="$only"
pprof_opt=""
vigil_pprof=""
if [[ "$profile" == 1 ]]; then
	pprof_opt="-pprof http://127.0.0.1:6060"
	vigil_pprof="--debug-pprof 127.0.0.1:6060"
fi
{
	cat <<'EOF'
#!/bin/sh
export PATH=/bin LD_LIBRARY_PATH=/lib/x86_64-linux-gnu
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
mkdir -p /var && ln -s /run /var/run
ip link set lo up
# keepalived logs through syslog(3) (LOG_CONS): without a syslog daemon
# every line would go to the slow serial console.
syslogd -O /tmp/messages
for m in $(cat /modules.order); do
	insmod /lib/modules/$m || { echo "VM: insmod $m failed:"; dmesg | tail -n 3; }
done
echo "VM: modules loaded, $(grep -c ^processor /proc/cpuinfo) CPUs"
EOF
	for cfg in $configs; do
		size=${cfg%-*}
		c=${cfg##*-}
		for i in $(seq 1 "$runs"); do
			# Alternate who goes first from one run to the next.
			ds="$daemons"
			((i % 2 == 0)) && ds="$(echo "$daemons" | awk '{ for (i = NF; i > 0; i--) printf "%s ", $i }')"
			for d in $ds; do
				case $d in
				vigil) cmd="/vigil run -n -l -f /conf-$cfg --journal /tmp/journal --control-socket /run/vigil.ctl $vigil_pprof ${VIGIL_ARGS:-}" ;;
				keepalived) cmd="/keepalived -C -n -l -f /conf-$cfg -p /run/keepalived.pid -c /run/checkers.pid" ;;
				esac
				popt=""
				[[ $d == vigil ]] && popt="$pprof_opt"
				echo "echo 'VM: $d $cfg run $i'"
				echo "/rsfarm run -check $c -vs ${size%x*} -rs ${size#*x} -name $d -window ${window}s -warm ${warm}s -every $every $popt -- $cmd || { echo 'VM: $d $cfg failed'; tail -n 20 /tmp/$d.log; }"
				# What the daemon logged: its errors and warnings, and how much.
				echo "echo \"VM: $d log: \$(grep -c . /tmp/$d.log) lines\"; grep -E ' (ERR|WRN|ERROR|WARNING)|rror' /tmp/$d.log | head -n 5; tail -n ${LOGTAIL:-0} /tmp/$d.log"
				echo "rm -rf /tmp/journal; sleep 2"
			done
		done
	done
	echo 'echo "VM: done"'
	echo 'poweroff -f'
} >"$root/init"
chmod +x "$root/init"
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1) >"$tmp/initramfs.gz"

accel="${VIGIL_QEMU_ACCEL:-tcg}"
cpu=max
[[ "$accel" == kvm ]] && cpu=host
echo "checkers.sh: booting $kver ($accel, -smp 2, ${mem} MB): $configs, $runs run(s) each, window ${window}s" >&2
out="$tmp/console.log"
timeout "${TIMEOUT:-7200}" qemu-system-x86_64 -machine "accel=$accel" -cpu "$cpu" -m "$mem" -smp 2 -nographic -no-reboot \
	-kernel "$vmlinuz" -initrd "$tmp/initramfs.gz" \
	-append 'console=ttyS0 panic=-1 quiet loglevel=3' \
	</dev/null >"$out" 2>&1 || true
tr -d '\r' <"$out" >"$out.txt"
grep -q '^VM: done' "$out.txt" || { tail -n 40 "$out.txt"; fail "the guest did not finish (console: $out.txt; KEEPTMP=1 keeps it)"; }
grep -E '^(VM:|rsfarm:|RESULT)' "$out.txt"

if [[ "$profile" == 1 ]]; then
	KEEPTMP=1
	awk -v dir="$tmp" '/^PPROF-BEGIN/ { n++; f = dir "/vigil-" n ".b64"; on = 1; next } /^PPROF-END/ { on = 0; close(f); next } on { print > f }' "$out.txt"
	for b in "$tmp"/vigil-*.b64; do
		[[ -e "$b" ]] || continue
		base64 -d "$b" >"${b%.b64}.pprof"
		echo "== ${b%.b64}.pprof"
		go tool pprof -top -nodecount 25 "$root/vigil" "${b%.b64}.pprof" 2>/dev/null | sed -n '1,32p'
	done
fi

# One summary line per size and check: medians over the runs, and the
# ratio vigil / keepalived.
echo
awk '
/^RESULT/ {
	delete f
	for (i = 2; i <= NF; i++) { split($i, kv, "="); v = kv[2]; gsub(/[^0-9.-]/, "", v); f[kv[1]] = v; s[kv[1]] = kv[2] }
	key = f["servers"] " " s["check"]
	keys[key] = 1
	d = s["name"]
	n[key, d]++
	k = n[key, d]
	for (x in f) val[key, d, x, k] = f[x]
}
function median(key, d, x,    m, i, j, a, t) {
	m = n[key, d]
	if (m == 0) return "-"
	for (i = 1; i <= m; i++) a[i] = val[key, d, x, i]
	for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return a[int((m + 1) / 2)]
}
function ratio(key, x,    a, b) {
	a = median(key, "vigil", x); b = median(key, "keepalived", x)
	# -1 means no victim was detected: no ratio.
	if (a == "-" || b == "-" || b + 0 <= 0 || a + 0 < 0) return "-"
	return sprintf("%.2fx", a / b)
}
END {
	for (key in keys) {
		split(key, kk, " ")
		printf "%s servers, %s: ", kk[1], kk[2]
		for (di = 1; di <= 2; di++) {
			d = di == 1 ? "vigil" : "keepalived"
			if (n[key, d] == 0) continue
			printf "%s checks/s %s (configured %s), CPU %s%%, RSS %s MB, down p50/p99/max %s/%s/%s ms (missed %s of %s), up p50 %s ms; ",
				d, median(key, d, "checks"), median(key, d, "configured"), median(key, d, "cpu"), median(key, d, "rss"),
				median(key, d, "down_p50"), median(key, d, "down_p99"), median(key, d, "down_max"),
				median(key, d, "missed"), median(key, d, "victims"), median(key, d, "up_p50")
		}
		printf "vigil/keepalived: CPU %s, RSS %s, down p99 %s\n", ratio(key, "cpu"), ratio(key, "rss"), ratio(key, "down_p99")
	}
}' "$out.txt"
