#!/bin/bash
# BFD at scale: N sessions (default 1,000) at min_rx/min_tx 50 ms,
# multiplier 3, between two network namespaces joined by a veth — vigil
# against vigil, then keepalived against keepalived, in one run.
#
# Each side holds N addresses on its veth (10.77.16.0/20 on side a,
# 10.77.32.0/20 on side b); session k runs between a's k-th and b's k-th
# address, with a bfd_instance on each side (neighbor_ip, source_ip) and
# nothing else in the configuration. For each implementation: start both
# sides, wait until every session is Up on both (at most SETTLE seconds,
# default 120; if they are not by then, the window starts anyway and the
# up column says how many were), then measure over DURATION seconds (default 60; the
# README's figure is DURATION=600):
#   cpu   % of one core, from /proc/PID/stat (utime+stime) over the window,
#         per side; keepalived's is its three processes together (parent,
#         VRRP child, BFD child), vigil's its one process;
#   rss   MB, VmRSS summed over the same processes, at the window's end;
#   downs "Entering Down state" lines logged during the window, both sides
#         together: every one is a false Down (nothing is cut);
#   up    sessions Up on side a at the window's start (Up less Down lines).
# vigil journals as in production (its own --journal directory under the
# run's temporary directory).
#
# usage: sudo bench/bfd-scale.sh
#   N=1000 DURATION=600 SETTLE=120
#   VIGIL=path/to/vigil to use a built binary; KEEPALIVED=path likewise.
#   ONLY=vigil or ONLY=keepalived to measure one implementation.
#   VIGIL_ARGS="--debug-pprof 127.0.0.1:6060" extra vigil run options for
#   side a (profile it with go tool pprof during the window).
#   KEEP=1 keeps the temporary directory (logs) and prints its path.
set -eu

n=${N:-1000}
duration=${DURATION:-60}
settle=${SETTLE:-120}
if [ "$(id -u)" -ne 0 ]; then
	echo "bfd-scale.sh: needs root (network namespaces)" >&2
	exit 2
fi
if [ "$n" -lt 1 ] || [ "$n" -gt 4000 ]; then
	echo "bfd-scale.sh: N must be 1..4000" >&2
	exit 2
fi
keepalived=${KEEPALIVED:-$(command -v keepalived || true)}
impls="vigil keepalived"
[ -z "${ONLY:-}" ] || impls=$ONLY
if [ -z "$keepalived" ] && [ "$impls" != vigil ]; then
	echo "bfd-scale.sh: keepalived not installed (ONLY=vigil to run without it)" >&2
	exit 2
fi

here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/vigil-bfdscale.XXXXXX)
pfx="vgbfs-$$-"
na="${pfx}a" nb="${pfx}b"
pids=()
hz=$(getconf CLK_TCK)

cleanup() {
	set +e
	for p in "${pids[@]}"; do
		for c in $(cat "/proc/$p/task/"*/children 2>/dev/null); do kill -KILL "$c" 2>/dev/null; done
		kill -KILL "$p" 2>/dev/null
	done
	for f in "$tmp"/*/*.pid; do
		p=$(cat "$f" 2>/dev/null) || continue
		grep -q keepalived "/proc/$p/cmdline" 2>/dev/null && kill -KILL "$p"
	done
	for ns in "$na" "$nb"; do ip netns del "$ns" 2>/dev/null; done
	if [ -n "${KEEP:-}" ]; then echo "bfd-scale.sh: kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT INT TERM

vigil=${VIGIL:-}
if [ -z "$vigil" ] && [ "$impls" != keepalived ]; then
	vigil="$tmp/vigil"
	(cd "$here" && go build -o "$vigil" ./cmd/vigil)
fi

# addrs SIDE: the side's N addresses, one a line: side a in
# 10.77.16.0/20, side b in 10.77.32.0/20, skipping .0 and .255.
addrs() {
	awk -v n="$n" -v base="$([ "$1" = b ] && echo 32 || echo 16)" \
		'BEGIN { for (k = 0; k < n; k++) printf "10.77.%d.%d\n", base + int(k / 254), k % 254 + 1 }'
}

ip netns add "$na"
ip netns add "$nb"
ip -n "$na" link set lo up
ip -n "$nb" link set lo up
ip -n "$na" link add eth0 type veth peer name eth0 netns "$nb"
for side in a b; do
	ns=$na
	[ "$side" = b ] && ns=$nb
	addrs "$side" | awk '{ print "addr add " $1 "/16 dev eth0" }' | ip -n "$ns" -batch -
	ip -n "$ns" link set eth0 up
done

conf() { # SIDE: the side's bfd_instances
	local peer=b
	[ "$1" = b ] && peer=a
	paste -d' ' <(addrs "$1") <(addrs "$peer") | awk '{
		printf "bfd_instance s%d {\n  neighbor_ip %s\n  source_ip %s\n  min_rx 50\n  min_tx 50\n  multiplier 3\n}\n", NR - 1, $2, $1 }'
}

procs() { echo "$1" $(cat "/proc/$1/task/"*/children 2>/dev/null); }
ticks() { # PIDS...: utime+stime summed
	local s=0 p
	for p in "$@"; do
		s=$((s + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo "$s"
}
rss() { # PIDS...: VmRSS summed, kB
	local s=0 p
	for p in "$@"; do
		s=$((s + $(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)))
	done
	echo "$s"
}
count() { grep -c "$2" "$1" 2>/dev/null || true; }

printf '%-10s %6s %6s %8s %9s %9s %8s %8s %6s\n' impl n up secs cpu_a_% cpu_b_% rss_a_MB rss_b_MB downs >"$tmp/table"
for impl in $impls; do
	declare -A main=()
	for side in a b; do
		dir="$tmp/$impl-$side"
		mkdir -p "$dir"
		conf "$side" >"$dir/keepalived.conf"
		ns=$na
		[ "$side" = b ] && ns=$nb
		if [ "$impl" = vigil ]; then
			extra=""
			[ "$side" = a ] && extra=${VIGIL_ARGS:-}
			# shellcheck disable=SC2086
			ip netns exec "$ns" "$vigil" run -n -l -f "$dir/keepalived.conf" -p "$dir/main.pid" -r "$dir/vrrp.pid" \
				--journal "$dir/journal" --control-socket "$dir/vigil.ctl" $extra >"$dir/log" 2>&1 &
		else
			ip netns exec "$ns" "$keepalived" -n -l -f "$dir/keepalived.conf" -p "$dir/main.pid" \
				-r "$dir/vrrp.pid" -c "$dir/checkers.pid" -b "$dir/bfd.pid" >"$dir/log" 2>&1 &
		fi
		main[$side]=$!
		pids+=($!)
		disown $!
	done
	# Settle: every session Up on both sides (Up lines less Down lines).
	ok=0
	end=$((SECONDS + settle))
	while [ "$SECONDS" -lt "$end" ]; do
		ua=$(($(count "$tmp/$impl-a/log" 'Entering Up state') - $(count "$tmp/$impl-a/log" 'Entering Down state')))
		ub=$(($(count "$tmp/$impl-b/log" 'Entering Up state') - $(count "$tmp/$impl-b/log" 'Entering Down state')))
		if [ "$ua" -ge "$n" ] && [ "$ub" -ge "$n" ]; then ok=1; break; fi
		sleep 0.5
	done
	if [ "$ok" != 1 ]; then
		# A loaded host may never see all N Up at once: measure anyway,
		# and say how many were.
		echo "bfd-scale.sh: $impl: after ${settle}s only $ua (side a) and $ub (side b) of $n sessions Up; measuring anyway" >&2
	fi
	sleep 5 # the poll sequences end, min_tx takes over from idle_tx
	ua=$(($(count "$tmp/$impl-a/log" 'Entering Up state') - $(count "$tmp/$impl-a/log" 'Entering Down state')))
	pa=$(procs "${main[a]}") pb=$(procs "${main[b]}")
	d0=$(($(count "$tmp/$impl-a/log" 'Entering Down state') + $(count "$tmp/$impl-b/log" 'Entering Down state')))
	w0=$(date +%s.%N)
	a0=$(ticks $pa) b0=$(ticks $pb)
	sleep "$duration"
	a1=$(ticks $pa) b1=$(ticks $pb)
	w1=$(date +%s.%N)
	ra=$(rss $pa) rb=$(rss $pb)
	d1=$(($(count "$tmp/$impl-a/log" 'Entering Down state') + $(count "$tmp/$impl-b/log" 'Entering Down state')))
	cpu() { awk -v a="$1" -v b="$2" -v w0="$w0" -v w1="$w1" -v hz="$hz" 'BEGIN { printf "%.1f", (b - a) / hz / (w1 - w0) * 100 }'; }
	printf '%-10s %6d %6d %8d %9s %9s %8.1f %8.1f %6d\n' "$impl" "$n" "$ua" "$duration" "$(cpu "$a0" "$a1")" "$(cpu "$b0" "$b1")" \
		"$(awk -v k="$ra" 'BEGIN { print k / 1024 }')" "$(awk -v k="$rb" 'BEGIN { print k / 1024 }')" $((d1 - d0)) >>"$tmp/table"
	for side in a b; do
		for c in $(cat "/proc/${main[$side]}/task/"*/children 2>/dev/null); do kill -TERM "$c" 2>/dev/null || true; done
		kill -TERM "${main[$side]}" 2>/dev/null || true
	done
	for side in a b; do
		for _ in $(seq 100); do kill -0 "${main[$side]}" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "${main[$side]}" 2>/dev/null || true
	done
	for f in "$tmp/$impl"-?/bfd.pid; do
		[ -f "$f" ] && p=$(cat "$f") && grep -q keepalived "/proc/$p/cmdline" 2>/dev/null && kill -KILL "$p"
	done
	unset main
	sleep 2
done
cat "$tmp/table"
echo "(cpu: % of one core per side; rss: MB, VmRSS of all the side's processes; downs: false Down transitions in the window, both sides)"
