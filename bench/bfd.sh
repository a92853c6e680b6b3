#!/bin/bash
# BFD detection benchmark: how long vigil and keepalived take to act on a
# BFD session going down, in one run and one topology (two nodes on a
# bridge, each in its own network namespace, a third holding the bridge).
#
# The detector (n1: vigil or keepalived) runs a bfd_instance towards n2
# (min_rx 50, min_tx 50, multiplier 3: a detection time of 150 ms) and one
# VRRP instance tracking it unweighted, alone on its VRID: it holds the VIP
# while the session is Up and drops it (FAULT) when it goes Down. n2 always
# runs keepalived's BFD with the same timers. Each run: wait until the
# detector holds the VIP, pull n2's cable (its bridge port down; bash's
# $EPOCHREALTIME taken just before), and time the VIP's deletion as `ip
# -ts monitor address` in n1 reports it; then plug the cable in again and
# wait for the VIP to come back. The figure is detection plus reaction:
# between 150 ms less one transmit interval of n2 (the last packet left up
# to 50 ms before the cut) and 150 ms, plus the time from the expiry to
# the address deletion (for keepalived, the BFD process's message to its
# VRRP process included).
#
# usage: sudo bench/bfd.sh [RUNS]               (default 10)
#   VIGIL=path/to/vigil to use a built binary; KEEPALIVED=path likewise.
#   ONLY=vigil or ONLY=keepalived to measure one implementation.
#   MIN_RX=10 for min_rx/min_tx 10 ms on both sides (default 50: the
#   detection time is 3 × MIN_RX).
set -eu

runs=${1:-10}
if [ "$(id -u)" -ne 0 ]; then
	echo "bfd.sh: needs root (network namespaces)" >&2
	exit 2
fi
for tool in ip awk date; do
	command -v "$tool" >/dev/null || { echo "bfd.sh: $tool not installed" >&2; exit 2; }
done
keepalived=${KEEPALIVED:-$(command -v keepalived || true)}
if [ -z "$keepalived" ]; then
	echo "bfd.sh: keepalived not installed (it is the peer)" >&2
	exit 2
fi

here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/vigil-bfd.XXXXXX)
pfx="vgbfd-$$-"
sw="${pfx}sw" n1="${pfx}n1" n2="${pfx}n2"
vip=10.77.0.100
pids=()

cleanup() {
	set +e
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	for f in "$tmp"/*/*.pid; do
		p=$(cat "$f" 2>/dev/null) || continue
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
impls="vigil keepalived"
[ -z "${ONLY:-}" ] || impls=$ONLY

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

bfd() { # name self peer
	printf 'bfd_instance %s {\n  neighbor_ip %s\n  source_ip %s\n  min_rx %s\n  min_tx %s\n  multiplier 3\n}\n' "$1" "$3" "$2" "${MIN_RX:-50}" "${MIN_RX:-50}"
}
detector_conf() {
	printf 'global_defs {\n  router_id detector\n}\n'
	bfd peer 10.77.0.11 10.77.0.12
	cat <<EOF
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 77
  priority 100
  advert_int 1
  track_bfd {
    peer
  }
  virtual_ipaddress {
    $vip/24
  }
}
EOF
}

has_vip() { ip -n "$n1" -br addr show dev eth0 | grep -q " $vip/"; }
wait_until() { # SECONDS CMD...
	local n=$(($1 * 20))
	shift
	for _ in $(seq "$n"); do "$@" && return 0; sleep 0.05; done
	return 1
}

# The peer: keepalived's BFD (and an idle VRRP process), for every run.
mkdir -p "$tmp/peer"
{ printf 'global_defs {\n  router_id peer\n}\n'; bfd detector 10.77.0.12 10.77.0.11; } >"$tmp/peer/keepalived.conf"
ip netns exec "$n2" "$keepalived" -n -l -G -P -f "$tmp/peer/keepalived.conf" -p "$tmp/peer/main.pid" \
	-r "$tmp/peer/vrrp.pid" -c "$tmp/peer/checkers.pid" -b "$tmp/peer/bfd.pid" >"$tmp/peer/log" 2>&1 &
pids+=($!)
disown $!

printf '%-10s %5s %10s %10s %10s\n' impl runs min_ms median_ms max_ms
for impl in $impls; do
	dir="$tmp/$impl"
	mkdir -p "$dir"
	detector_conf >"$dir/keepalived.conf"
	if [ "$impl" = vigil ]; then
		ip netns exec "$n1" "$vigil" run -n -l -G -f "$dir/keepalived.conf" -p "$dir/main.pid" \
			-r "$dir/vrrp.pid" >"$dir/log" 2>&1 &
	else
		ip netns exec "$n1" "$keepalived" -n -l -G -P -f "$dir/keepalived.conf" -p "$dir/main.pid" \
			-r "$dir/vrrp.pid" -c "$dir/checkers.pid" -b "$dir/bfd.pid" >"$dir/log" 2>&1 &
	fi
	dpid=$!
	disown $dpid
	pids+=($dpid)
	: >"$dir/times"
	for run in $(seq "$runs"); do
		if ! wait_until 30 has_vip; then
			echo "bfd.sh: $impl never held the VIP (run $run); log:" >&2
			tail -20 "$dir/log" >&2
			exit 1
		fi
		sleep 0.$((RANDOM % 9 + 1)) # a random phase within the transmit intervals
		mon="$dir/mon.$run"
		ip -ts -n "$n1" monitor address >"$mon" 2>&1 &
		mpid=$!
		pids+=("$mpid") # killed by cleanup on every exit: a leftover monitor would keep a caller's flock held
		sleep 0.2
		t0=$EPOCHREALTIME
		ip -n "$sw" link set p2 down
		wait_until 5 sh -c "grep -q 'Deleted.*$vip' '$mon'" || { echo "bfd.sh: $impl kept the VIP (run $run)" >&2; exit 1; }
		kill "$mpid" 2>/dev/null || true
		wait "$mpid" 2>/dev/null || true
		ts=$(grep "Deleted.*$vip" "$mon" | head -1 | sed 's/^\[\([^]]*\)\].*/\1/')
		t1=$(date -d "$ts" +%s.%N)
		awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }' >>"$dir/times"
		ip -n "$sw" link set p2 up
	done
	kill -TERM "$dpid" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.05; done
	kill -KILL "$dpid" 2>/dev/null || true
	[ -f "$dir/bfd.pid" ] && p=$(cat "$dir/bfd.pid") && grep -q keepalived "/proc/$p/cmdline" 2>/dev/null && kill -KILL "$p"
	ip -n "$n1" addr del "$vip/24" dev eth0 2>/dev/null || true
	sort -n "$dir/times" | awk -v impl="$impl" '{ v[NR] = $1 } END {
		printf "%-10s %5d %10.1f %10.1f %10.1f\n", impl, NR, v[1], v[int((NR + 1) / 2)], v[NR] }'
done
