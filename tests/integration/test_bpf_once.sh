#!/bin/bash
# A capture's filter is compiled once each time its sockets are built: once
# at a start (it was twice, as the file was checked and again as the
# sockets were built), not at all at a reload that keeps the sockets (a
# pipeline reload; it was once), and once at a reload that builds them anew
# (bpf changed; it was twice).  A long filter takes libpcap seconds to
# compile, during which the master serves no one.  The master logs each
# compile at debug; the program a reload attaches is the one it validated.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

compiles()
{
	grep -c "^ringfan\[master\] debug: capture test: bpf compiled to [0-9]* instructions for link type 1$" \
	    "$1" || true
}

rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
sed -i "1i log: { level: debug }" "$RF_CONF"

"$RINGFAN" -c "$RF_CONF" -t >/dev/null 2>"$RF_TMP/t.err"
rf_expect "compiles by -t" "$(compiles "$RF_TMP/t.err")" 1

rf_start
rf_expect "compiles at the start" "$(compiles "$RF_ERR")" 1
rf_send -t udp -n 5 -f 1

echo "      - { plugin: counter, name: again }" >>"$RF_CONF"
rf_expect "pipeline reload" "$(rf_ctl_json reload .result)" pipeline
rf_expect "compiles after a pipeline reload" "$(compiles "$RF_ERR")" 1

sed -i 's/^    bpf: "udp port 9"$/    bpf: "udp port 10"/' "$RF_CONF"
rf_expect "capture reload" "$(rf_ctl_json reload .result)" captures
rf_expect "compiles after a capture reload" "$(compiles "$RF_ERR")" 2
# Port 9 no longer passes the new sockets' filter.
rf_send -t udp -n 5 -f 1
rf_stop
rf_expect "packets" "$(jq '.captures[0].totals.packets' "$RF_STATS")" 5
echo "PASS"
