#!/bin/bash
# Fanout hash keeps a flow on one worker, both of its directions included:
# the kernel hashes the flow symmetrically, so a worker sees whole
# conversations.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FLOWS=500
PER_DIRECTION=3
K=$((FLOWS * 2 * PER_DIRECTION))

rf_link
mkdir "$RF_TMP/flows"
rf_config 2 hash "udp port 9" \
    "{ plugin: flowlog, config: { directory: \"$RF_TMP/flows\" } }"
rf_start
# -b: forward then reverse frame of a flow, cycling over the flows.
rf_send -t udp -n "$K" -f "$FLOWS" -b -r 20000
rf_stop

rf_expect "sum of flowlog.frames" "$(rf_sum .plugins.flowlog.frames)" "$K"
rf_expect "totals.packets" "$(rf_num '.captures[0].totals.packets')" "$K"
for w in 0 1; do
	[ -f "$RF_TMP/flows/flows-$w.txt" ] ||
	    rf_fail "worker $w wrote no flows-$w.txt"
done

# One line per frame: "SRC SPORT DST DPORT".  A flow's key is its two
# endpoints in sorted order; it must belong to one worker only.
report=$(awk -v per="$PER_DIRECTION" '
FNR == 1 {
	w = FILENAME
	sub(/.*flows-/, "", w)
	sub(/\.txt$/, "", w)
}
{
	a = $1 " " $2
	b = $3 " " $4
	if (a < b) {
		key = a " <> " b
		dir = "fwd"
	} else {
		key = b " <> " a
		dir = "rev"
	}
	if ((key in owner) && owner[key] != w && !(key in shared)) {
		print "flow " key " is on workers " owner[key] " and " w \
		    > "/dev/stderr"
		shared[key] = 1
		nshared++
	}
	if (!(key in owner)) {
		owner[key] = w
		flows[w]++
		nflows++
	}
	count[key, dir]++
	lines++
}
END {
	for (key in owner)
		if (count[key, "fwd"] != per || count[key, "rev"] != per)
			uneven++
	printf "flows %d lines %d shared %d uneven %d w0 %d w1 %d\n",
	    nflows, lines, nshared, uneven, flows[0], flows[1]
}' "$RF_TMP/flows/flows-0.txt" "$RF_TMP/flows/flows-1.txt")
echo "flowlog: $report"
read -r _ nflows _ lines _ shared _ uneven _ w0 _ w1 <<<"$report"
rf_expect "distinct flows" "$nflows" "$FLOWS"
rf_expect "lines" "$lines" "$K"
rf_expect "flows seen on two workers" "$shared" 0
rf_expect "flows without $PER_DIRECTION frames each way" "$uneven" 0
rf_expect "flows of both workers" $((w0 + w1)) "$FLOWS"
if [ "$w0" -eq 0 ] || [ "$w1" -eq 0 ]; then
	rf_fail "all $FLOWS flows went to one worker: no fanout"
fi
echo "PASS"
