#!/bin/sh
# Parse benchmark: the keepalived.conf(5) ~SEQ example
#   ~SEQ(IF,0,7) ~SEQ(NUM,0,31) ~SEQ(ID,1,254) $VI4
# scaled to N instances (a multiple of 254; above 8128 a multiple of 8128),
# timed with `vigil check` and `keepalived -t`, wall time and peak RSS
# from /usr/bin/time -v (Debian package `time`: apt-get install time).
#
# usage: bench/parse.sh [N] [--no-keepalived]
#   N defaults to 8128 (keepalived -t needs ~3.3 s there; at 65024 it needs
#   ~21 minutes, so pass --no-keepalived for large N).
#
# keepalived -t checks interface names against the current network
# namespace: the generated bond* interfaces do not exist, so it reports
# them (and exits 5); the parse and validation work is still done and timed.
set -eu

n=${1:-8128}
skip_ka=${2:-}
ids=254
if [ $((n % ids)) -ne 0 ]; then
	echo "N must be a multiple of 254" >&2
	exit 2
fi
groups=$((n / ids))
if [ "$groups" -le 32 ]; then
	ifs=1 nums=$groups
elif [ $((groups % 32)) -eq 0 ]; then
	ifs=$((groups / 32)) nums=32
else
	echo "N above 8128 must be a multiple of 8128" >&2
	exit 2
fi

[ -x /usr/bin/time ] || { echo "/usr/bin/time missing: apt-get install time" >&2; exit 2; }

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
conf=$work/keepalived.conf

cat >"$conf" <<EOT
\$VI4= \\
track_file offset_instance_4.\${IF}.\${NUM}.\${ID} { \\
    file "\${_PWD}/679/track_files/4.\${IF}.\${NUM}.\${ID}" \\
    weight -100 \\
} \\
vrrp_instance vrrp4.\${IF}.\${NUM}.\${ID} { \\
    interface bond\${IF}.\${NUM} \\
    use_vmac vrrp4.\${IF}.\${NUM}.\${ID} \\
    virtual_router_id \${ID} \\
    priority 130 \\
    virtual_ipaddress { \\
        10.\${IF}.\${NUM}.\${ID}/24 \\
    } \\
    track_file { \\
        offset_instance_4.\${IF}.\${NUM}.\${ID} \\
    } \\
}

~SEQ(IF,0,$((ifs - 1))) ~SEQ(NUM,0,$((nums - 1))) ~SEQ(ID,1,$ids) \$VI4
EOT

(cd "$root" && go build -o "$work/vigil" ./cmd/vigil)

# measure NAME CMD...: run CMD under /usr/bin/time -v, print wall time and
# peak RSS.
measure() {
	name=$1
	shift
	status=0
	/usr/bin/time -v "$@" >"$work/out" 2>"$work/err" || status=$?
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/err")
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/err")
	printf '%-14s instances=%-6s wall=%-9s peak_rss=%s MB exit=%s\n' \
		"$name" "$n" "$wall" "$((rss / 1024))" "$status"
}

measure "vigil check" "$work/vigil" check -f "$conf"
if [ "$skip_ka" != "--no-keepalived" ] && command -v keepalived >/dev/null 2>&1; then
	measure "keepalived -t" keepalived -t -l -G -f "$conf"
fi
