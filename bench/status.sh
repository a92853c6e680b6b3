#!/bin/bash
# vigil status under load: bench/scale.sh's two nodes (four veth links,
# 1,020 VRRPv3 instances, advert_int A, default 0.1: the backup hears
# 10,200 adverts a second), started with each given vigil binary in turn,
# ROUNDS times (default 2); after SETTLE seconds (default 20), the adverts
# the backup hears per second, its loop's latency line, STATUS_N (default
# 20) `vigil status` runs timed from exec to exit (min / median / max), and
# the latency line again. It separates the request from the process
# start: the same number of requests sent at the socket by bench/statusq
# (round trip, whole answer read), and of `vigil --version` runs (a
# process start and nothing else), each min / median / max in ms.
# Unlike scale.sh it times the requests whatever
# the nodes' states (scale.sh skips a run whose backup took over, as it
# does on an overloaded machine).
#
# usage: sudo bench/status.sh VIGIL...      (e.g. an old and a new build)
set -u
[ $# -gt 0 ] || { echo "usage: bench/status.sh VIGIL..." >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "status.sh: needs root (network namespaces, raw sockets)" >&2; exit 2; }
here=$(cd "$(dirname "$0")/.." && pwd)
rounds=${ROUNDS:-2}
nsm="vgst-$$-m" nsb="vgst-$$-b"
tmp=$(mktemp -d /var/tmp/vgst.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done; ip netns del "$nsm" 2>/dev/null; ip netns del "$nsb" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
q="$tmp/statusq"
(cd "$here" && go build -o "$q" ./bench/statusq) || exit 1
# mmm prints the min / median / max of the numbers on its standard input.
mmm() { sort -g | awk '{ v[NR] = $1 } END { printf "%s / %s / %s", v[1], (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, v[NR] }'; }
ip netns add "$nsm"; ip netns add "$nsb"
for ns in "$nsm" "$nsb"; do ip -n "$ns" link set lo up; done
for l in 0 1 2 3; do
	ip -n "$nsm" link add "eth$l" address "02:77:00:00:0$l:01" type veth peer name "eth$l" netns "$nsb" address "02:77:00:00:0$l:02"
	ip -n "$nsm" addr add "10.77.$l.1/24" dev "eth$l"; ip -n "$nsb" addr add "10.77.$l.2/24" dev "eth$l"
	ip -n "$nsm" link set "eth$l" up; ip -n "$nsb" link set "eth$l" up
done
per=255 adv=${A:-0.1}
eval "$(sed -n '/^conf() {/,/^}/p' "$here/bench/scale.sh")"
conf 150 BACKUP >"$tmp/master.conf"; conf 100 BACKUP >"$tmp/backup.conf"
nvips() { ip -n "$1" -4 -o addr show | awk '$4 ~ /^10\.77\.10[0-3]\./' | wc -l; }
rcvd() { "$1" status --json -s "$2" 2>/dev/null | awk -F: '/"advert_rcvd"/ { gsub(/[ ,]/, "", $2); s += $2 } END { print s + 0 }'; }
for r in $(seq "$rounds"); do
	for k in $(seq $#); do
		bin=${!k} v="$k:$(basename "$bin")" d="$tmp/$k.$r"; mkdir -p "$d/m" "$d/b"
		ip netns exec "$nsm" "$bin" run -P -n -l -D -G -f "$tmp/master.conf" -p "$d/m/main.pid" -r "$d/m/vrrp.pid" --journal "$d/m/journal" --control-socket "$d/m/vigil.ctl" >"$d/m/log" 2>&1 & pm=$!
		ip netns exec "$nsb" "$bin" run -P -n -l -D -G -f "$tmp/backup.conf" -p "$d/b/main.pid" -r "$d/b/vrrp.pid" --journal "$d/b/journal" --control-socket "$d/b/vigil.ctl" >"$d/b/log" 2>&1 & pb=$!
		pids+=("$pm" "$pb")
		sleep "${SETTLE:-20}"
		sock="$d/b/vigil.ctl"
		a0=$(rcvd "$bin" "$sock") w0=$EPOCHREALTIME; sleep 5; a1=$(rcvd "$bin" "$sock") w1=$EPOCHREALTIME
		rate=$(awk -v a="$a0" -v b="$a1" -v x="$w0" -v y="$w1" 'BEGIN { printf "%.0f", (b - a) / (y - x) }')
		l0=$("$bin" status -s "$sock" 2>/dev/null | grep '^loop:')
		times=()
		for _ in $(seq "${STATUS_N:-20}"); do
			t0=$EPOCHREALTIME; "$bin" status -s "$sock" >"$d/status.txt" 2>&1; t1=$EPOCHREALTIME
			times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')")
		done
		req=$("$q" -n "${STATUS_N:-20}" "$sock" | head -1)
		starts=()
		for _ in $(seq "${STATUS_N:-20}"); do
			t0=$EPOCHREALTIME; "$bin" --version >/dev/null; t1=$EPOCHREALTIME
			starts+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')")
		done
		l1=$("$bin" status -s "$sock" 2>/dev/null | grep '^loop:')
		st=$(printf '%s\n' "${times[@]}" | mmm)
		echo "## $v round $r $(date -u +%T) load $(cut -d' ' -f1 /proc/loadavg): backup hears $rate adverts/s, VIPs m/b $(nvips "$nsm")/$(nvips "$nsb"); status min/median/max $st ms; lines $(wc -l <"$d/status.txt")"
		echo "   request at the socket (no process start): $(tr ' ' '\n' <<<"$req" | grep . | mmm) ms; process start alone ($(basename "$bin") --version): $(printf '%s\n' "${starts[@]}" | mmm) ms"
		echo "   all: ${times[*]}"
		echo "   before: $l0"
		echo "   after:  $l1"
		[ -z "${STATUS_SHOW:-}" ] || head -n "$STATUS_SHOW" "$d/status.txt" | sed 's/^/   | /'
		kill -TERM "$pm" "$pb"; wait "$pm" "$pb" 2>/dev/null
		for _ in $(seq 50); do [ "$(nvips "$nsm")$(nvips "$nsb")" = 00 ] && break; sleep 0.1; done
	done
done
