#!/bin/bash
# Flood benchmark (issue 15): how a VRRP pair holds up against hostile
# traffic on its segment, vigil and keepalived in one run and one topology.
#
# Namespaces (exact names, removed on exit): a switch (bridge br0), two
# nodes n1 (priority 150, the master) and n2 (priority 100), an attacker
# (10.77.0.66) and a passive observer (10.77.0.99) whose tcpdump
# timestamps the master's adverts and counts its ARPs. The pair runs
# VRRPv2, VRID 77, advert_int 1, auth_type PASS. bench/floodgen sends one
# kind of junk at one rate for FLOOD_SECONDS; for each (kind, rate) cell:
#
#   achieved   the rate the sender reached
#   worst      the master's worst advert interval the observer saw (ms),
#              from the last advert before the flood to the first after
#   flaps      adverts the backup sent (it believed itself master)
#   cpu/pkt    master's and backup's CPU (all threads, schedstat) during
#              the flood divided by the packets sent (µs)
#   answers    adverts and ARPs the master sent beyond its regular ones
#   counters   the master's stats dump deltas (SIGUSR2) that moved
#
# Kinds: vrid (valid, another VRID), ttl (TTL 64), checksum, truncated,
# auth (wrong password), version (VRRPv3 for the v2 VRID), lower (valid,
# priority 50, from an address no node has).
#
# usage: sudo bench/flood.sh
#   FLOOD_SECONDS=3  RATES="1000 10000 100000 200000"  KINDS="vrid ttl ..."
#   ONLY=vigil|keepalived  VIGIL=path  KEEPALIVED=path
set -eu

if [ "$(id -u)" -ne 0 ]; then
	echo "flood.sh: needs root (network namespaces)" >&2
	exit 2
fi
for tool in ip tcpdump awk unshare; do
	command -v "$tool" >/dev/null || { echo "flood.sh: $tool not installed" >&2; exit 2; }
done

here=$(cd "$(dirname "$0")/.." && pwd)
secs=${FLOOD_SECONDS:-3}
rates=${RATES:-1000 10000 100000 200000}
kinds=${KINDS:-vrid ttl checksum truncated auth version lower}
# Not under /tmp: each daemon gets a private /tmp (its stats dump).
tmp=$(mktemp -d /var/tmp/vigil-flood.XXXXXX)
pfx="vgflood-$$-"
sw="${pfx}sw" n1="${pfx}n1" n2="${pfx}n2" atk="${pfx}atk" obs="${pfx}obs"
vip=10.77.0.100
mac1=02:77:00:00:00:0b
pids=()

cleanup() {
	set +e
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	for f in "$tmp"/run-*/*/vrrp.pid; do
		[ -f "$f" ] || continue
		p=$(cat "$f")
		grep -q keepalived "/proc/$p/cmdline" 2>/dev/null && kill -KILL "$p"
	done
	for ns in "$n1" "$n2" "$atk" "$obs" "$sw"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

vigil=${VIGIL:-}
if [ -z "$vigil" ]; then
	vigil="$tmp/vigil"
	(cd "$here" && go build -o "$vigil" ./cmd/vigil)
fi
gen="$tmp/floodgen"
(cd "$here" && go build -o "$gen" ./bench/floodgen)
keepalived=${KEEPALIVED:-$(command -v keepalived || true)}
impls="vigil keepalived"
[ -n "$keepalived" ] || impls=vigil
[ -z "${ONLY:-}" ] || impls=$ONLY

ip netns add "$sw"
ip -n "$sw" link set lo up
ip -n "$sw" link add br0 type bridge mcast_snooping 0 forward_delay 0
ip -n "$sw" link set br0 up
k=0
for ns in "$n1" "$n2" "$atk" "$obs"; do
	k=$((k + 1))
	case $ns in
	"$atk") a=66 ;; "$obs") a=99 ;; *) a=$((10 + k)) ;;
	esac
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip -n "$ns" link add eth0 address "$(printf '02:77:00:00:00:%02x' $((10 + k)))" type veth peer name "p$k" netns "$sw"
	ip -n "$sw" link set "p$k" master br0 up
	ip -n "$ns" addr add "10.77.0.$a/24" dev eth0
	ip -n "$ns" link set eth0 up
done

cap="$tmp/capture.txt"
ip netns exec "$obs" tcpdump -i eth0 -nn -e -l -tt --immediate-mode --time-stamp-precision=micro \
	'arp or (ip proto 112 and not src host 10.77.0.66)' >"$cap" 2>"$tmp/tcpdump.err" &
pids+=($!)
disown $!
for _ in $(seq 100); do grep -q "listening on" "$tmp/tcpdump.err" 2>/dev/null && break; sleep 0.1; done

conf() { # priority
	cat <<EOF
global_defs {
  router_id flood
}
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 77
  version 2
  priority $1
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass secret
  }
  virtual_ipaddress {
    $vip/24
  }
}
EOF
}

# start IMPL NS PRIORITY DIR → started_pid. A private /tmp per daemon,
# for its stats dump.
start() {
	local impl=$1 ns=$2 dir=$4
	mkdir -p "$dir"
	conf "$3" >"$dir/keepalived.conf"
	local priv='mount -t tmpfs tmpfs /tmp && exec "$@"'
	if [ "$impl" = vigil ]; then
		ip netns exec "$ns" unshare -m --propagation private sh -c "$priv" sh "$vigil" run -n -l -G \
			-f "$dir/keepalived.conf" -p "$dir/main.pid" -r "$dir/vrrp.pid" >"$dir/log" 2>&1 &
	else
		ip netns exec "$ns" unshare -m --propagation private sh -c "$priv" sh "$keepalived" -n -l -G -P \
			-f "$dir/keepalived.conf" -p "$dir/main.pid" -r "$dir/vrrp.pid" -c "$dir/checkers.pid" >"$dir/log" 2>&1 &
	fi
	started_pid=$!
	disown "$started_pid"
	pids+=($started_pid)
}

has_vip() { ip -n "$1" -br addr show dev eth0 | grep -q " $vip/"; }
converged() { has_vip "$n1" && ! has_vip "$n2"; }
wait_until() {
	local end=$((SECONDS + $1))
	shift
	while ! "$@"; do
		[ $SECONDS -le $end ] || return 1
		sleep 0.05
	done
}
# cpu_ns PID: CPU time of all its threads, in ns.
cpu_ns() {
	local s=0 a
	for f in /proc/"$1"/task/*/schedstat; do
		read -r a _ <"$f" 2>/dev/null || continue
		s=$((s + a))
	done
	echo $s
}
# stats PID MAIN: the stats dump of the daemon (SIGUSR2 to MAIN), flattened.
stats() {
	local f=/proc/$2/root/tmp/keepalived.stats
	rm -f "$f"
	kill -USR2 "$2"
	for _ in $(seq 40); do [ -s "$f" ] && break; sleep 0.05; done
	sleep 0.05
	awk '/^VRRP Instance/ { next }
		/:$/ { sec = $0; gsub(/^ +|:$/, "", sec); next }
		/^  [A-Z]/ { sec = "" }
		{ line = $0; sub(/^ +/, "", line); n = split(line, kv, ": "); if (n == 2) { k = (sec == "" ? "" : sec ".") kv[1]; gsub(/ /, "_", k); print k, kv[2] } }' "$f" 2>/dev/null
}
# delta BEFORE AFTER: the counters that moved.
delta() {
	awk 'NR == FNR { b[$1] = $2; next } { d = $2 - b[$1]; if (d != 0) printf "%s%s=%d", (n++ ? " " : ""), $1, d }' "$1" "$2"
}

set +e
results="$tmp/results.txt"
: >"$results"
for impl in $impls; do
	d="$tmp/run-$impl"
	start "$impl" "$n1" 150 "$d/n1"
	m1=$started_pid
	start "$impl" "$n2" 100 "$d/n2"
	m2=$started_pid
	if ! wait_until 15 converged; then
		echo "$impl: no election" >&2
		continue
	fi
	sleep 3
	if [ "$impl" = vigil ]; then v1=$m1 v2=$m2; else v1=$(cat "$d/n1/vrrp.pid") v2=$(cat "$d/n2/vrrp.pid"); fi
	for kind in $kinds; do
		for rate in $rates; do
			if ! wait_until 15 converged; then
				echo "$impl $kind $rate: pair did not converge before the cell" >&2
			fi
			sleep 1.2
			stats "$v1" "$m1" >"$tmp/before"
			c1=$(cpu_ns "$v1") c2=$(cpu_ns "$v2")
			t0=$EPOCHREALTIME
			out=$(ip netns exec "$atk" "$gen" -kind "$kind" -rate "$rate" -seconds "$secs")
			t1=$EPOCHREALTIME
			c1b=$(cpu_ns "$v1") c2b=$(cpu_ns "$v2")
			sleep 1.2
			stats "$v1" "$m1" >"$tmp/after"
			sent=$(awk '{ print $2 }' <<<"$out")
			achieved=$(awk '{ print $8 }' <<<"$out")
			counters=$(delta "$tmp/before" "$tmp/after")
			# From the capture: the master's adverts (10.77.0.11) from the
			# last one before t0 to the first after t1; the backup's in the
			# window; the master's ARPs in the window.
			read -r worst madv flaps arps < <(awk -v t0="$t0" -v t1="$t1" -v mac="$mac1" '
				index($0, "10.77.0.11 > ") && index($0, "vrid 77") {
					if ($1 + 0 < t0) { last = $1; next }
					if ($1 + 0 <= t1) { n++; if (last) { g = $1 - last; if (g > w) w = g }; last = $1; next }
					if (!after) { after = 1; if (last) { g = $1 - last; if (g > w) w = g } }
				}
				index($0, "10.77.0.12 > ") && index($0, "vrid 77") && $1 + 0 >= t0 && $1 + 0 <= t1 + 1 { f++ }
				index($0, mac " > ff:ff:ff:ff:ff:ff") && index($0, "ARP") && $1 + 0 >= t0 && $1 + 0 <= t1 { a++ }
				END { printf "%.0f %d %d %d\n", w * 1000, n, f, a }' "$cap")
			regular=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", b - a }')
			answers=$((madv - regular))
			[ $answers -ge 0 ] || answers=0
			cpu=$(awk -v a="$((c1b - c1))" -v b="$((c2b - c2))" -v n="$sent" 'BEGIN { if (n > 0) printf "%.2f/%.2f", a / n / 1000, b / n / 1000; else print "-" }')
			printf '%-10s %-9s %7s %8s %7s %5s %13s %6s %6s  %s\n' "$impl" "$kind" "$rate" "$achieved" "$worst" "$flaps" "$cpu" "$answers" "$arps" "$counters" | tee -a "$results"
		done
	done
	for p in $m1 $m2; do kill -TERM "$p" 2>/dev/null; done
	for p in $m1 $m2; do
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$p" 2>/dev/null
	done
	for ns in "$n1" "$n2"; do ip -n "$ns" addr del "$vip/24" dev eth0 2>/dev/null; done
	sleep 1
done

echo
echo "FLOOD_SECONDS=$secs; worst = master's worst advert interval (ms); flaps = backup adverts;"
echo "cpu/pkt = master/backup µs per junk packet; answers = extra master adverts; arps = master ARPs"
printf '%-10s %-9s %7s %8s %7s %5s %13s %6s %6s  %s\n' impl kind rate achieved worst flaps cpu/pkt answers arps counters
cat "$results"
