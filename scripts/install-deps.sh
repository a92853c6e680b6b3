#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian 12 machine: Go modules
# and the Debian packages used by the tests (keepalived as an interop peer and
# for its sample configs, iproute2 for the namespace lab, tcpdump for the
# failover bench, nftables (nft) to read the no_accept firewall back,
# librsvg2-bin to render replay SVGs, man-db (and groff-base) to lint
# vigil(8), systemd for systemd-analyze, which verifies and scores
# dist/vigil.service, prometheus for promtool, which lints vigil's /metrics
# in the tests).
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(keepalived iproute2 tcpdump librsvg2-bin man-db groff-base systemd nftables)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	if [ "$(id -u)" = 0 ]; then
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
		# keepalived's package starts the service; the tests run their own.
		systemctl stop keepalived 2>/dev/null || true
		pkill -x keepalived 2>/dev/null || true
	else
		echo "install-deps: not root, cannot install: ${missing[*]} (tests needing them will skip)" >&2
	fi
fi
# promtool comes with Debian's prometheus server package: installed without
# its recommends (node-exporter), and the server it starts is stopped.
if ! command -v promtool >/dev/null; then
	if [ "$(id -u)" = 0 ]; then
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null ||
			echo "install-deps: prometheus (promtool) not installed: the metrics lint will skip" >&2
		systemctl stop prometheus 2>/dev/null || true
	else
		echo "install-deps: not root, cannot install prometheus (promtool): the metrics lint will skip" >&2
	fi
fi
go mod download
