#!/bin/bash
# Load benchmark (issue 18): the master's worst advert interval on the
# bridge and the spurious failovers (adverts the backup sent as master)
# of vigil and keepalived, side by side in one run, under busy loops that
# saturate the cores at the daemons' own priority, with and without
# vrrp_rt_priority, and with memory pressure added (the master in a
# memory cgroup limited to its usage + 8 MiB, beside a process whose page
# cache keeps evicting the daemon's pages; skipped without a memory
# cgroup hierarchy, v2 or v1).
#
# It runs e2e's TestLoadFigures, which builds the namespace lab (master
# priority 150 and backup 100, advert_int 1) for each case.
#
# usage: sudo bench/load.sh [SECONDS]     (window per case, default 30)
#   LOAD_HOGS=N busy loops (default 4), LOAD_RUNS=N runs of each case
#   (default 1, alternating vigil and keepalived);
#   VIGIL_BINARY=path to use a built vigil.
set -eu
if [ "$(id -u)" -ne 0 ]; then
	echo "load.sh: needs root (network namespaces, cgroups)" >&2
	exit 2
fi
cd "$(dirname "$0")/.."
win=${1:-30}
out=$(mktemp /tmp/vigil-load.XXXXXX)
trap 'rm -f "$out"' EXIT
status=0
VIGIL_LOAD_BENCH=$win go test -count=1 -timeout 0 -run 'TestLoadFigures$' -v ./e2e/ >"$out" 2>&1 || status=$?
# The table, then the subtests' verdicts.
sed -n '/load figures/,/^---/p' "$out" | sed '$d'
grep -E '^ *--- (FAIL|SKIP)|^(ok|FAIL)' "$out" || true
exit $status
