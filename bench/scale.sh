#!/bin/bash
# Scale benchmark: vigil and keepalived with many VRRP instances.
#
# Two network namespaces (m = master, b = backup) joined by four veth
# links (eth0..eth3, 10.77.L.1/24 and 10.77.L.2/24); N VRRPv3 instances
# spread evenly over the links (default 1,020: VRIDs 1..255 on each), one
# VIP each (10.77.(100+L).VRID/32); the master at priority 150, the backup
# at 100, advert_int A. Both daemons run with `-P -n -l -D -G` (keepalived's
# flags; vigil run takes them), logs to a file, vigil with its journal on
# (default settings, one directory per node under the run's temporary
# directory, on the same disk as /var/lib/vigil/journal).
#
# For vigil and keepalived alternately, RUNS times each:
#   startup  (STARTUP=1, the default) the master alone as address owner
#            (priority 255, state MASTER): from the exec to the first
#            gratuitous ARP of the first and of the last VIP (tcpdump in the
#            other namespace, kernel timestamps, CLOCK_REALTIME like bash's
#            $EPOCHREALTIME). Then stopped.
#   steady   both started; once the master holds every VIP and the backup
#            none, SETTLE seconds (default 7: past the second GARP burst),
#            then CPU over WINDOW seconds (default 15) from /proc/PID/stat
#            utime+stime, as % of one core, for every process of the daemon
#            (keepalived: parent + VRRP child); RSS = sum of VmRSS of those
#            processes at the end of the window.
#   schedule during the window, tcpdump in the backup's namespace (a kernel
#            filter: VRIDs 1, 128 and 255 on every link, 12 instances) records
#            the master's adverts: mean interval (error vs A, in %) and the
#            worst lateness (interval - A) in ms.
#   takeover SIGTERM of the master; tcpdump (any interface, backup's
#            namespace) sees its priority-0 adverts and the backup's GARPs:
#            first VIP and last VIP (by first GARP per VIP) relative to the
#            first priority-0 advert, and the spread (last - first).
#
# usage: sudo bench/scale.sh [RUNS]            (default 3)
#   N=1020          instances (a multiple of 4, at most 1020)
#   A=1             advert_int (0.1 is allowed: VRRPv3)
#   ONLY=vigil|keepalived   one implementation only
#   VIGIL=path KEEPALIVED=path   binaries (default: build vigil, keepalived on PATH)
#   VIGIL_B=path    a second vigil binary, run as "vigilB" in turn with the
#                   others (a change measured before/after in one run);
#                   VIGIL_B_ENV="GOGC=50 ..." environment for it only
#   VIGIL_ARGS="--debug-pprof 127.0.0.1:6060"  extra vigil run options (both
#                   nodes; each has its own loopback in its namespace)
#   KEEPTMP=1       keep the temporary directory (configs, logs, captures)
#   STATUS_N=20     vigil status requests timed on the backup after the
#                   window (min / median / max printed, with the loop's latency
#                   line before and after); STATUS_SHOW=N prints the first
#                   N lines of the last one
#   KEEP=SECONDS    keep both daemons running that long after the steady
#                   window (to profile them: ip netns exec vgscale-PID-m curl
#                   -o cpu.pprof 'http://127.0.0.1:6060/debug/pprof/profile?seconds=20')
# Cleanup (namespaces by their exact names, daemons by pid) runs on exit.
set -eu

runs=${1:-3}
n=${N:-1020}
adv=${A:-1}
settle=${SETTLE:-7}
window=${WINDOW:-15}
startup=${STARTUP:-1}
if [ "$(id -u)" -ne 0 ]; then
	echo "scale.sh: needs root (network namespaces, raw sockets)" >&2
	exit 2
fi
for tool in ip tcpdump awk; do
	command -v "$tool" >/dev/null || { echo "scale.sh: $tool not installed" >&2; exit 2; }
done
if [ $((n % 4)) -ne 0 ] || [ "$n" -gt 1020 ] || [ "$n" -lt 4 ]; then
	echo "scale.sh: N must be a multiple of 4 between 4 and 1020" >&2
	exit 2
fi
per=$((n / 4))

here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /var/tmp/vigil-scale.XXXXXX)
nsm="vgscale-$$-m" nsb="vgscale-$$-b"
bg=() # background pids we started (daemons, tcpdumps)

killtree() { # pid: the pid and its children (keepalived's VRRP child)
	local c
	for c in $(cat "/proc/$1/task/"*/children 2>/dev/null); do kill -KILL "$c" 2>/dev/null; done
	kill -KILL "$1" 2>/dev/null
}
cleanup() {
	set +e
	for p in "${bg[@]}"; do killtree "$p"; done
	for ns in "$nsm" "$nsb"; do ip netns del "$ns" 2>/dev/null; done
	if [ -n "${KEEPTMP:-}" ]; then echo "scale.sh: files kept in $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

vigil=${VIGIL:-}
if [ -z "$vigil" ]; then
	vigil="$tmp/vigil"
	(cd "$here" && go build -o "$vigil" ./cmd/vigil)
fi
keepalived=${KEEPALIVED:-$(command -v keepalived || true)}
impls="vigil keepalived"
[ -n "$keepalived" ] || impls=vigil
[ -z "${VIGIL_B:-}" ] || impls="vigil vigilB${keepalived:+ keepalived}"
[ -z "${ONLY:-}" ] || impls=$ONLY

# Topology: four veth pairs between the two namespaces.
ip netns add "$nsm"
ip netns add "$nsb"
for ns in "$nsm" "$nsb"; do ip -n "$ns" link set lo up; done
for l in 0 1 2 3; do
	ip -n "$nsm" link add "eth$l" address "02:77:00:00:0$l:01" type veth peer name "eth$l" netns "$nsb" address "02:77:00:00:0$l:02"
	ip -n "$nsm" addr add "10.77.$l.1/24" dev "eth$l"
	ip -n "$nsb" addr add "10.77.$l.2/24" dev "eth$l"
	ip -n "$nsm" link set "eth$l" up
	ip -n "$nsb" link set "eth$l" up
done

conf() { # priority state (printf, a builtin: a cat per instance took minutes on a loaded machine)
	echo "global_defs {"
	echo "  router_id bench"
	echo "}"
	local l v
	for l in 0 1 2 3; do
		for ((v = 1; v <= per; v++)); do
			printf 'vrrp_instance VI_%s_%s {\n  state %s\n  interface eth%s\n  virtual_router_id %s\n  version 3\n  priority %s\n  advert_int %s\n  virtual_ipaddress {\n    10.77.%s.%s/32\n  }\n}\n' \
				"$l" "$v" "$2" "$l" "$v" "$1" "$adv" "$((100 + l))" "$v"
		done
	done
}
conf 150 BACKUP >"$tmp/master.conf"
conf 100 BACKUP >"$tmp/backup.conf"
conf 255 MASTER >"$tmp/owner.conf"

# start IMPL NS CONF DIR [EXTRA...] → started_pid
start() {
	local impl=$1 ns=$2 cf=$3 dir=$4
	shift 4
	mkdir -p "$dir"
	if [ "$impl" = vigil ] || [ "$impl" = vigilB ]; then
		local bin=$vigil envs=()
		[ "$impl" = vigil ] || { bin=$VIGIL_B; envs=(${VIGIL_B_ENV:-}); }
		ip netns exec "$ns" env "${envs[@]}" "$bin" run -P -n -l -D -G -f "$cf" -p "$dir/main.pid" \
			-r "$dir/vrrp.pid" --journal "$dir/journal" --control-socket "$dir/vigil.ctl" "$@" >"$dir/log" 2>&1 &
	else
		ip netns exec "$ns" "$keepalived" -P -n -l -D -G -f "$cf" -p "$dir/main.pid" \
			-r "$dir/vrrp.pid" -c "$dir/checkers.pid" >"$dir/log" 2>&1 &
	fi
	started_pid=$!
	disown "$started_pid"
	bg+=("$started_pid")
}

# stop PID...: SIGTERM, wait up to 10 s, then SIGKILL (with children).
stop() {
	local p
	for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "$@"; do
		for _ in $(seq 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
		killtree "$p"
	done
}

# tcpdump_start NS FILE FILTER... → started_pid (once it listens). The
# capture goes to FILE.pcap (printing text live drops packets in bursts);
# tcpdump_text FILE, once it was stopped, prints it to FILE as text.
tcpdump_start() {
	local ns=$1 f=$2
	shift 2
	ip netns exec "$ns" tcpdump -i any -s 128 -B 65536 --time-stamp-precision=micro -w "$f.pcap" \
		"$@" 2>"$f.err" &
	started_pid=$!
	disown "$started_pid"
	bg+=("$started_pid")
	for _ in $(seq 100); do grep -q "listening on" "$f.err" 2>/dev/null && break; sleep 0.05; done
}

tcpdump_text() {
	tcpdump -r "$1.pcap" -nn -tt --time-stamp-precision=micro >"$1" 2>/dev/null
	if grep -q "[1-9][0-9]* packets dropped by kernel" "$1.err"; then
		echo "  capture $(basename "$1"): $(grep "dropped by kernel" "$1.err")" >&2
	fi
}

nvips() { ip -n "$1" -4 -o addr show | awk '$4 ~ /^10\.77\.10[0-3]\./' | wc -l; }

# wait_vips NS COUNT SECONDS
wait_vips() {
	local end=$((SECONDS + $3))
	while [ "$(nvips "$1")" -ne "$2" ]; do
		[ $SECONDS -le "$end" ] || return 1
		sleep 0.1
	done
}

# procs PID: the daemon's processes (the pid and its children)
procs() { echo "$1" $(cat "/proc/$1/task/"*/children 2>/dev/null); }
ticks() { # PIDS...: utime+stime summed
	local p s=0
	for p in "$@"; do
		s=$((s + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo "$s"
}
rss() { # PIDS...: VmRSS summed, kB
	local p s=0
	for p in "$@"; do
		s=$((s + $(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)))
	done
	echo "$s"
}
hz=$(getconf CLK_TCK)

# GARP analysis: FILE T0 → "first last" (seconds after T0, ms), by the first
# gratuitous ARP of each VIP.
garps() {
	awk -v t0="$2" -v n="$n" '
		/ARP, Request who-has 10\.77\.10[0-3]\./ {
			for (i = 1; i <= NF; i++) if ($i == "who-has") ip = $(i + 1)
			if (!(ip in seen) && index($0, "tell " ip ",")) { seen[ip] = $1; k++; if (first == "") first = $1; last = $1 }
		}
		END { if (k < n) { print "incomplete", k; exit } printf "%.1f %.1f\n", (first - t0) * 1000, (last - t0) * 1000 }' "$1"
}

set +e
results="$tmp/results.txt"
: >"$results"
rec() { echo "$*" >>"$results"; }
run=0
for r in $(seq "$runs"); do
	for impl in $impls; do
		run=$((run + 1))
		d="$tmp/run$run"
		mkdir -p "$d"
		echo "== run $r $impl (N=$n advert_int=$adv)" >&2

		# 1. Startup as address owner.
		if [ "$startup" = 1 ]; then
			tcpdump_start "$nsb" "$d/startup.cap" arp
			tp=$started_pid
			t0=$EPOCHREALTIME
			start "$impl" "$nsm" "$tmp/owner.conf" "$d/owner"
			p=$started_pid
			if wait_vips "$nsm" "$n" 60; then
				sleep 1.5
				stop "$tp"
				tcpdump_text "$d/startup.cap"
				s=$(garps "$d/startup.cap" "$t0")
				case $s in
				incomplete*) echo "  startup: GARPs $s" >&2 ;;
				*)
					set -- $s
					rec "$impl startup_first $1"
					rec "$impl startup_last $2"
					echo "  startup as owner: first VIP ${1} ms, last VIP ${2} ms" >&2
					;;
				esac
			else
				echo "  startup: the owner did not take all VIPs ($(nvips "$nsm")/$n)" >&2
			fi
			stop "$p" "$tp"
			for _ in $(seq 50); do [ "$(nvips "$nsm")" -eq 0 ] && break; sleep 0.1; done
		fi

		# 2. Steady state.
		extra=()
		[ "$impl" = keepalived ] || [ -z "${VIGIL_ARGS:-}" ] || extra=($VIGIL_ARGS)
		start "$impl" "$nsm" "$tmp/master.conf" "$d/m" "${extra[@]}"
		pm=$started_pid
		start "$impl" "$nsb" "$tmp/backup.conf" "$d/b" "${extra[@]}"
		pb=$started_pid
		if ! wait_vips "$nsm" "$n" 120; then
			echo "  no convergence: master holds $(nvips "$nsm")/$n VIPs" >&2
			stop "$pm" "$pb"
			continue
		fi
		sleep "$settle"
		if [ "$(nvips "$nsb")" -ne 0 ]; then
			echo "  the backup holds $(nvips "$nsb") VIPs: skipped" >&2
			stop "$pm" "$pb"
			continue
		fi
		# VRID (byte 1 of the VRRP header) 1, 128 or 255
		vr='ip[((ip[0] & 0xf) << 2) + 1]'
		tcpdump_start "$nsb" "$d/sched.cap" -Q in "ip proto 112 and ($vr = 1 or $vr = 128 or $vr = 255)"
		tp=$started_pid
		mp=$(procs "$pm") bp=$(procs "$pb")
		m0=$(ticks $mp) b0=$(ticks $bp) w0=$EPOCHREALTIME
		sleep "$window"
		m1=$(ticks $mp) b1=$(ticks $bp) w1=$EPOCHREALTIME
		mr=$(rss $mp) br=$(rss $bp)
		if [ -n "${KEEPTMP:-}" ]; then # where the memory is, for the kept files
			for p in $mp; do cat "/proc/$p/smaps_rollup" >>"$d/m.smaps" 2>/dev/null; done
			for p in $bp; do cat "/proc/$p/smaps_rollup" >>"$d/b.smaps" 2>/dev/null; done
		fi
		stop "$tp"
		if [ "$impl" != keepalived ]; then
			# vigil status on the backup (it hears every advert: N/A a
			# second) while it runs: the slowest of STATUS_N requests, and
			# the loop's latency line before and after them.
			sock="$d/b/vigil.ctl"
			l0=$("$vigil" status -s "$sock" 2>/dev/null | grep '^loop:' || true)
			times=()
			for _ in $(seq "${STATUS_N:-20}"); do
				t0=$EPOCHREALTIME
				"$vigil" status -s "$sock" >"$d/status.txt" 2>&1 || true
				t1=$EPOCHREALTIME
				times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')")
			done
			l1=$("$vigil" status -s "$sock" 2>/dev/null | grep '^loop:' || true)
			st=$(printf '%s\n' "${times[@]}" | sort -g | awk '{ v[NR] = $1 }
				END { med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%s %s %s\n", v[1], med, v[NR] }')
			set -- $st
			rec "$impl status_min_ms $1"
			rec "$impl status_median_ms $2"
			rec "$impl status_worst_ms $3"
			echo "  vigil status on the backup, ${STATUS_N:-20} requests (the command's whole run, exec to exit): min $1 / median $2 / max $3 ms" >&2
			echo "  before: $l0" >&2
			echo "  after:  $l1" >&2
			[ -z "${STATUS_SHOW:-}" ] || head -n "${STATUS_SHOW}" "$d/status.txt" >&2
		fi
		tcpdump_text "$d/sched.cap"
		cpu() { awk -v a="$1" -v b="$2" -v w0="$w0" -v w1="$w1" -v hz="$hz" 'BEGIN { printf "%.2f", (b - a) / hz / (w1 - w0) * 100 }'; }
		mc=$(cpu "$m0" "$m1") bc=$(cpu "$b0" "$b1")
		rec "$impl cpu_master $mc"
		rec "$impl cpu_backup $bc"
		rec "$impl rss_master $(awk -v k="$mr" 'BEGIN { printf "%.1f", k / 1024 }')"
		rec "$impl rss_backup $(awk -v k="$br" 'BEGIN { printf "%.1f", k / 1024 }')"
		# interval per (interface, VRID): awk over "TIME ifname In IP src > dst: VRRPv3, Advertisement, vrid V, ..."
		sch=$(awk -v a="$adv" '
			/vrid/ { for (i = 1; i <= NF; i++) if ($i == "vrid") v = $(i + 1); key = $2 " " v
				if (key in last) { d = $1 - last[key]; s += d; c++; late = d - a; if (late > worst) worst = late }
				last[key] = $1 }
			END { if (c == 0) { print "- -"; exit } printf "%.4f %.3f\n", (s / c - a) / a * 100, worst * 1000 }' "$d/sched.cap")
		set -- $sch
		rec "$impl sched_mean_err_pct $1"
		rec "$impl sched_worst_late_ms $2"
		echo "  steady: CPU master ${mc} % backup ${bc} %; RSS master $((mr / 1024)) MB backup $((br / 1024)) MB; adverts: mean interval error $1 %, worst late $2 ms" >&2
		if [ -n "${KEEP:-}" ]; then
			echo "  KEEP=$KEEP: master pid $pm (ns $nsm), backup pid $pb (ns $nsb) for $KEEP s" >&2
			sleep "$KEEP"
		fi

		# 3. Mass takeover after SIGTERM of the master.
		z='ip[((ip[0] & 0xf) << 2) + 2]' # priority
		tcpdump_start "$nsb" "$d/takeover.cap" "arp or (ip proto 112 and $z = 0)"
		tp=$started_pid
		kill -TERM "$pm"
		wait_vips "$nsb" "$n" 30
		sleep 1.5
		stop "$tp"
		tcpdump_text "$d/takeover.cap"
		p0=$(awk '/VRRP/ && /prio 0,/ { print $1; exit }' "$d/takeover.cap")
		if [ -z "$p0" ]; then
			echo "  takeover: no priority-0 advert seen" >&2
		else
			s=$(garps "$d/takeover.cap" "$p0")
			case $s in
			incomplete*) echo "  takeover: GARPs $s" >&2 ;;
			*)
				set -- $s
				rec "$impl takeover_first $1"
				rec "$impl takeover_last $2"
				rec "$impl takeover_spread $(awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }')"
				echo "  takeover after the first priority-0 advert: first VIP $1 ms, last VIP $2 ms" >&2
				;;
			esac
		fi
		stop "$pm" "$pb"
		for ns in "$nsm" "$nsb"; do
			for _ in $(seq 50); do [ "$(nvips "$ns")" -eq 0 ] && break; sleep 0.1; done
		done
	done
done

echo
echo "N=$n instances, advert_int $adv, $runs runs (min / median / max)"
cols="vigil keepalived"
[ -z "${VIGIL_B:-}" ] || cols="vigil vigilB keepalived"
printf '%-22s' metric
for impl in $cols; do printf ' %-26s' "$impl"; done
echo " ratio of medians (vigil/keepalived${VIGIL_B:+, vigilB/keepalived})"
for m in cpu_master cpu_backup rss_master rss_backup sched_mean_err_pct sched_worst_late_ms \
	startup_first startup_last takeover_first takeover_last takeover_spread status_min_ms status_median_ms status_worst_ms; do
	line=$(printf '%-22s' "$m")
	meds=()
	for impl in $cols; do
		s=$(awk -v i="$impl" -v m="$m" '$1 == i && $2 == m { print $3 }' "$results" | sort -g | awk '
			{ v[NR] = $1 }
			END { if (NR == 0) { print "-"; exit }
				med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
				printf "%s/%s/%s %s\n", v[1], med, v[NR], med }')
		set -- $s
		line="$line $(printf '%-26s' "$1")"
		meds+=("${2:-}")
	done
	k=${meds[${#meds[@]}-1]}
	ratio=$(awk -v a="${meds[0]}" -v b="$k" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }')
	if [ -n "${VIGIL_B:-}" ]; then
		ratio="$ratio $(awk -v a="${meds[1]}" -v b="$k" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }')"
	fi
	echo "$line $ratio"
done
echo "(cpu: % of one core; rss: MB, all processes; sched: master's adverts of 12 instances, seen in the backup's namespace;"
echo " startup/takeover: ms, first GARP per VIP, startup from the exec, takeover from the first priority-0 advert)"
