#!/bin/bash
# A worker holding flows (flowtable) and a pcap write buffer (pcapwriter)
# in host memory is stuck in a plugin (spin, on a marked frame; the stall
# watch off) when its interface is deleted: killed at the 5 s drain
# deadline, it closed none of its plugins, and the interface does not come
# back.  Whatever then ends that memory, a stop or a reload that replaces
# the pipeline, a closer starts without a socket or ring and closes it:
# the records and pcap files hold every frame counted in `packets`, and
# the frame the worker was stuck on, quarantined, which flowtable and
# pcapwriter had taken before spin (plugin.h: the region may hold what the
# predecessor made of it).
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N=40
M=20

# run NAME: rf_stuck_gone with flowtable and pcapwriter, their outputs
# in $RF_TMP/NAME; the sockets closed once the worker was killed.
run()
{
	DIR=$RF_TMP/$1
	mkdir "$DIR" "$DIR/pcap"
	rf_stuck_gone "$N" "$M" \
	    "{ plugin: flowtable, config: { output: \"$DIR/flows-{worker}.json\", idle_timeout: 60s } }" \
	    "{ plugin: pcapwriter, config: { directory: \"$DIR/pcap\" } }"
	rf_wait_until 10 "the worker killed at the drain deadline" grep -q \
	    "worker test/0 did not stop within 5010 ms of its interface's end" \
	    "$RF_ERR"
	rf_wait_until 5 "the sockets closed" grep -q \
	    "worker test/0: $M frames left in the ring of a gone interface" \
	    "$RF_ERR"
}

# written: the frames in the flow records and pcap files of $DIR.
written()
{
	local f n

	FLOWS=$(rf_flow_frames "$DIR")
	FRAMES=0
	for f in "$DIR"/pcap/*.pcap; do
		[ -e "$f" ] || continue
		n=$(rf_pcap_frames "$f")
		FRAMES=$((FRAMES + n))
	done
	echo "in flow records $FLOWS, in pcap files $FRAMES"
}

# closed WHAT LINE: the closer's line was logged, the records and pcap
# files hold the N frames and the quarantined one, and no loss was said.
closed()
{
	grep -qF "[master] info: worker test/0: $2" "$RF_ERR" ||
	    rf_fail "$1: no closer: $(grep -v debug "$RF_ERR")"
	written
	rf_expect "$1: frames in the flow records" "$FLOWS" $((N + 1))
	rf_expect "$1: frames in the pcap files" "$FRAMES" $((N + 1))
	! grep -q "held in host memory is lost" "$RF_ERR" ||
	    rf_fail "$1: $(grep "is lost" "$RF_ERR")"
}

# A stop while the interface is gone.
run stop
rf_stop
rf_expect "stop: packets" "$(rf_num '.captures[0].totals.packets')" "$N"
rf_expect "stop: quarantined" "$(rf_num '.captures[0].totals.quarantined')" 1
rf_expect "stop: kernel_drops" "$(rf_num '.captures[0].totals.kernel_drops')" "$M"
closed stop "closed what its predecessor left in host memory"
rf_expect "stop: worker state" "$(rf_json '.captures[0].workers[0].state')" \
    stopped

# A reload that changes the pipeline while the interface is gone: the
# memory of the previous one is closed before the reload goes on.
run reload
sed -i 's/idle_timeout: 60s/idle_timeout: 50s/' "$RF_CONF"
rc=0
rf_ctl reload >/dev/null 2>&1 || rc=$?
rf_expect "reload: exit status" "$rc" 0
rf_wait_until 10 "the closer's flow records" rf_flows_are "$DIR" $((N + 1))
closed reload "started to close what flowtable, pcapwriter left in host memory, its interface gone"
rf_stop
rf_expect "reload: packets" "$(rf_num '.captures[0].totals.packets')" "$N"
rf_expect "reload: worker state" "$(rf_json '.captures[0].workers[0].state')" \
    stopped
echo "PASS"
