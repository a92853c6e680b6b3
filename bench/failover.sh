#!/bin/bash
# Failover benchmark: takeover latency of vigil and of keepalived, in one
# run and one topology (two nodes on a bridge, each in its own network
# namespace, a third namespace holding the bridge and tcpdump).
#
# Latency is measured from the signal sent to the master (bash's
# $EPOCHREALTIME taken just before the kill builtin) to the new master's
# first gratuitous ARP on the bridge (tcpdump's kernel timestamp, -tt with
# microseconds): both on CLOCK_REALTIME.
#
# For each implementation, stop mode (graceful SIGTERM, crash SIGKILL —
# for keepalived its VRRP child first, as killing only the parent is not a
# crash) and advert_int (1 and 0.1, VRRPv3 so 0.1 is allowed), RUNS runs
# each: both daemons are started fresh, the master (priority 150) is
# elected, then the signal is sent at a random phase inside the advert
# interval. The backup has priority 100, so its skew time is
# (256-100)/256 × interval: the protocol bound is that skew for a graceful
# stop (priority-0 advert) and 3 × interval + skew for a crash.
#
# usage: sudo bench/failover.sh [RUNS]          (default 5)
#   VIGIL=path/to/vigil to use a built binary; KEEPALIVED=path likewise.
#   ONLY=vigil or ONLY=keepalived to measure one implementation;
#   INTERVALS="1" or MODES="graceful" to measure a subset.
set -eu

runs=${1:-5}
if [ "$(id -u)" -ne 0 ]; then
	echo "failover.sh: needs root (network namespaces)" >&2
	exit 2
fi
for tool in ip tcpdump awk; do
	command -v "$tool" >/dev/null || { echo "failover.sh: $tool not installed" >&2; exit 2; }
done

here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/vigil-failover.XXXXXX)
pfx="vgbench-$$-"
sw="${pfx}sw" n1="${pfx}n1" n2="${pfx}n2"
vip=10.77.0.100
mac2=02:77:00:00:00:0c # n2's eth0 (n1 has :0b)
pids=()

cleanup() {
	set +e
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	for f in "$tmp"/*/vrrp.pid; do
		[ -f "$f" ] || continue
		p=$(cat "$f")
		grep -q keepalived "/proc/$p/cmdline" 2>/dev/null && kill -KILL "$p"
	done
	for ns in "$n1" "$n2" "$sw"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

vigil=${VIGIL:-}
if [ -z "$vigil" ]; then
	vigil="$tmp/vigil"
	(cd "$here" && go build -o "$vigil" ./cmd/vigil)
fi
keepalived=${KEEPALIVED:-$(command -v keepalived || true)}
impls="vigil keepalived"
[ -n "$keepalived" ] || impls=vigil
[ -z "${ONLY:-}" ] || impls=$ONLY
intervals=${INTERVALS:-1 0.1}
modes=${MODES:-graceful crash}

# Topology.
ip netns add "$sw"
ip -n "$sw" link set lo up
ip -n "$sw" link add br0 type bridge mcast_snooping 0 forward_delay 0
ip -n "$sw" link set br0 up
k=0
for ns in "$n1" "$n2"; do
	k=$((k + 1))
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip -n "$ns" link add eth0 address "$(printf '02:77:00:00:00:%02x' $((10 + k)))" type veth peer name "p$k" netns "$sw"
	ip -n "$sw" link set "p$k" master br0 up
	ip -n "$ns" addr add "10.77.0.$((10 + k))/24" dev eth0
	ip -n "$ns" link set eth0 up
done

cap="$tmp/capture.txt"
ip netns exec "$sw" tcpdump -i br0 -nn -e -l -tt --immediate-mode --time-stamp-precision=micro \
	'arp or ip proto 112' >"$cap" 2>"$tmp/tcpdump.err" &
pids+=($!)
disown $!
for _ in $(seq 100); do grep -q "listening on" "$tmp/tcpdump.err" 2>/dev/null && break; sleep 0.1; done

conf() { # priority interval
	cat <<EOF
global_defs {
  router_id bench
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 77
  version 3
  priority $1
  advert_int $2
  virtual_ipaddress {
    $vip/24
  }
}
EOF
}

has_vip() { ip -n "$1" -br addr show dev eth0 | grep -q " $vip/"; }

# start IMPL NS PRIORITY INTERVAL DIR → sets started_pid
start() {
	local impl=$1 ns=$2 dir=$4
	mkdir -p "$dir"
	conf "$3" "$5" >"$dir/keepalived.conf"
	if [ "$impl" = vigil ]; then
		ip netns exec "$ns" "$vigil" run -n -l -G -f "$dir/keepalived.conf" -p "$dir/main.pid" \
			-r "$dir/vrrp.pid" --journal "$dir/journal" >"$dir/log" 2>&1 &
	else
		ip netns exec "$ns" "$keepalived" -n -l -G -P -f "$dir/keepalived.conf" -p "$dir/main.pid" \
			-r "$dir/vrrp.pid" -c "$dir/checkers.pid" >"$dir/log" 2>&1 &
	fi
	started_pid=$!
	disown "$started_pid" # no "Killed" job reports: crashes are the point
	pids+=($started_pid)
}

# stop_all DIR...: graceful stop of whatever still runs, then tidy addresses.
stop_all() {
	for p in "${pids[@]:1}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${pids[@]:1}"; do
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$p" 2>/dev/null
	done
	pids=("${pids[0]}")
	for ns in "$n1" "$n2"; do ip -n "$ns" addr del "$vip/24" dev eth0 2>/dev/null || true; done
}

# wait_until SECONDS CMD...
wait_until() {
	local t=$1
	shift
	local end=$((SECONDS + ${t%.*} + 1))
	while ! "$@"; do
		[ $SECONDS -le $end ] || return 1
		sleep 0.02
	done
}

# first GARP from the backup for the VIP after time T0 (seconds.micro)
first_garp_after() {
	awk -v t0="$1" -v mac="$mac2" -v vip="$vip" '
		$1 + 0 >= t0 + 0 && index($0, mac " > ff:ff:ff:ff:ff:ff") && index($0, "who-has " vip " ") && index($0, "tell " vip ",") { print $1; exit }' "$cap"
}

# From here on failures are handled where they matter (a daemon that
# exited, a kill of a process already gone are normal).
set +e
# first priority-0 advert from the master (n1) after time T0
first_prio0_after() {
	awk -v t0="$1" '$1 + 0 >= t0 + 0 && index($0, "10.77.0.11 > ") && index($0, "prio 0,") { print $1; exit }' "$cap"
}

results="$tmp/results.txt"
: >"$results"
run=0
for impl in $impls; do
	for interval in $intervals; do
		for mode in $modes; do
			for r in $(seq "$runs"); do
				run=$((run + 1))
				d="$tmp/run$run"
				start "$impl" "$n1" 150 "$d/n1" "$interval"
				p1=$started_pid
				start "$impl" "$n2" 100 "$d/n2" "$interval"
				if ! wait_until 15 has_vip "$n1"; then
					echo "run $run ($impl $interval $mode): no election" >&2
					stop_all
					continue
				fi
				# Let the backup hear several adverts, then a random phase.
				sleep "$(awk -v i="$interval" 'BEGIN { print 3 * i + 0.5 }')"
				if has_vip "$n2"; then
					echo "run $run ($impl $interval $mode): both masters" >&2
					stop_all
					continue
				fi
				sleep "$(awk -v i="$interval" -v s="$RANDOM" 'BEGIN { print i * s / 32768 }')"
				if [ "$mode" = graceful ]; then
					t0=$EPOCHREALTIME
					kill -TERM "$p1"
				else
					child=$(cat "$d/n1/vrrp.pid" 2>/dev/null || echo "$p1")
					t0=$EPOCHREALTIME
					kill -KILL "$child" 2>/dev/null
					[ "$child" = "$p1" ] || kill -KILL "$p1"
				fi
				if wait_until 10 has_vip "$n2"; then
					sleep 0.2
					g=$(first_garp_after "$t0")
				else
					g=
				fi
				if [ -n "$g" ]; then
					ms=$(awk -v a="$t0" -v b="$g" 'BEGIN { printf "%.1f", (b - a) * 1000 }')
					echo "$impl $interval $mode $ms" >>"$results"
					detail=
					z=$(first_prio0_after "$t0")
					if [ "$mode" = graceful ] && [ -n "$z" ]; then
						detail=$(awk -v a="$t0" -v z="$z" -v b="$g" 'BEGIN { printf "(signal→priority-0 advert %.1f ms, advert→GARP %.1f ms)", (z - a) * 1000, (b - z) * 1000 }')
					fi
					printf '%-10s advert_int %-4s %-8s run %d: %8s ms %s\n' "$impl" "$interval" "$mode" "$r" "$ms" "$detail"
				else
					echo "run $run ($impl $interval $mode): no takeover GARP seen" >&2
				fi
				stop_all
			done
		done
	done
done

echo
printf '%-10s %-10s %-9s %5s %9s %9s %9s %12s\n' impl advert_int mode runs min median max "bound"
for impl in $impls; do
	for interval in $intervals; do
		for mode in $modes; do
			awk -v impl="$impl" -v i="$interval" -v m="$mode" '$1 == impl && $2 == i && $3 == m { print $4 }' "$results" |
				sort -n | awk -v impl="$impl" -v i="$interval" -v m="$mode" '
					{ v[NR] = $1 }
					END {
						skew = (256 - 100) / 256 * i * 1000
						bound = (m == "graceful") ? skew : 3 * i * 1000 + skew
						if (NR == 0) { printf "%-10s %-10s %-9s %5d %9s %9s %9s %9.1f ms\n", impl, i, m, 0, "-", "-", "-", bound; exit }
						med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
						printf "%-10s %-10s %-9s %5d %9.1f %9.1f %9.1f %9.1f ms\n", impl, i, m, NR, v[1], med, v[NR], bound
					}'
		done
	done
done
