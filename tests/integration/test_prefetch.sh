#!/bin/bash
# The prefetch callback (plugin ABI 2.2) as the host calls it, live and
# offline: every frame gets its prefetch call before its packet call, once,
# in ring order, with fewer than RINGFAN_PREFETCH_AHEAD other calls between
# (the lookahead test plugin checks each pair and counts).  The pipeline is
# two steps of lookahead, the first stopping every third frame it gets: the
# second step is called for every frame's prefetch, and its packet only
# for the frames the first passed.  Offline, a record that libpcap reads
# into its own buffer gets no prefetch call.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STEPS=("{ plugin: lookahead, config: { stop_every: 3 } }" "plugin: lookahead")

# expect_steps N WHAT: the counters of both steps for N frames in all,
# every one of them prefetched.
expect_steps()
{
	local n=$1 what=$2 stopped=0 w p

	rf_expect "$what: first step packets" \
	    "$(rf_sum .plugins.lookahead.packets)" "$n"
	for w in $(rf_json '.captures[0].workers[].id'); do
		p=$(rf_num ".captures[0].workers[$w].plugins.lookahead.packets")
		stopped=$((stopped + p / 3))
	done
	rf_expect "$what: first step stopped" \
	    "$(rf_sum .plugins.lookahead.stopped)" "$stopped"
	rf_expect "$what: second step packets" \
	    "$(rf_sum .plugins.lookahead_2.packets)" $((n - stopped))
	for s in lookahead lookahead_2; do
		rf_expect "$what: $s prefetched" \
		    "$(rf_sum ".plugins.$s.prefetched")" "$n"
		rf_expect "$what: $s announced" \
		    "$(rf_sum ".plugins.$s.announced")" \
		    "$(rf_sum ".plugins.$s.packets")"
		rf_expect "$what: $s late" "$(rf_sum ".plugins.$s.late")" 0
		rf_expect "$what: $s disorder" \
		    "$(rf_sum ".plugins.$s.disorder")" 0
	done
}

# --- Live: two workers, blocks of 64 KiB (about 400 frames of 64 bytes).
K=20000
rf_link
rf_config 2 hash "udp port 9" "${STEPS[@]}"
rf_start
rf_send -t udp -n "$K" -f 256 -r 20000 -s 64
rf_stop
rf_expect_all "$K"
expect_steps "$K" live

# --- Offline: the same pipeline over files (no link needed from here on).
N=5000
"$RFSEND" -q -w "$RF_TMP/flows.pcap" -n "$N" -f 100 -s 64 ||
    rf_fail "rfsend -w failed"

# offline WORKERS PCAP [ENV...]: ringfan -r, its JSON as the stats.
offline()
{
	local workers=$1 pcap=$2

	shift 2
	rf_config "$workers" hash "" "${STEPS[@]}"
	RF_STATS=$RF_TMP/offline.json
	env "$@" "$RINGFAN" -c "$RF_CONF" -r "$pcap" >"$RF_STATS" \
	    2>"$RF_TMP/offline.err" ||
	    rf_fail "ringfan -r $pcap: $(cat "$RF_TMP/offline.err")"
}

offline 1 "$RF_TMP/flows.pcap"
expect_steps "$N" "file, 1 worker"
offline 3 "$RF_TMP/flows.pcap"
expect_steps "$N" "file, 3 workers"
offline 1 "$RF_TMP/flows.pcap" RINGFAN_OFFLINE_LOOPS=2
expect_steps $((2 * N)) "from memory, 2 passes"
offline 3 "$RF_TMP/flows.pcap" RINGFAN_OFFLINE_LOOPS=2
expect_steps $((2 * N)) "from memory, 2 passes, 3 workers"

# A file of 64-byte records with the snapshot length 80 and one record of
# 100 bytes in the middle: libpcap reads that one (pcapmap.h), which gets
# no prefetch call; the records around it do.
"$RFSEND" -q -w "$RF_TMP/big.pcap" -n 1 -f 1 -s 100 ||
    rf_fail "rfsend -w failed"
{
	head -c 16 "$RF_TMP/flows.pcap"
	printf '\x50\x00\x00\x00'		# snaplen 80, little-endian
	tail -c +21 "$RF_TMP/flows.pcap" | head -c $((4 + 50 * 80))
	tail -c +25 "$RF_TMP/big.pcap"
	tail -c +$((25 + 50 * 80)) "$RF_TMP/flows.pcap" | head -c $((50 * 80))
} >"$RF_TMP/mixed.pcap"
[ "$(od -An -tu4 -j 16 -N 4 "$RF_TMP/flows.pcap" | tr -d ' ')" -gt 100 ] ||
    rf_fail "rfsend's files are not little-endian with a snaplen over 100"
offline 1 "$RF_TMP/mixed.pcap"
rf_expect "mixed: packets" "$(rf_sum .plugins.lookahead.packets)" 101
rf_expect "mixed: prefetched" "$(rf_sum .plugins.lookahead.prefetched)" 100
rf_expect "mixed: announced" "$(rf_sum .plugins.lookahead.announced)" 100
rf_expect "mixed: caplen of the long record" \
    "$(rf_num '.captures[0].totals.bytes')" $((100 * 64 + 100))
echo "PASS"
