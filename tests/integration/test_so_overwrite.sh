#!/bin/bash
# A plugin .so overwritten in place (cp onto the running file, same inode)
# while ringfan runs.  The workers map the file, so their plugin code
# changes under them and they may crash; the master runs no plugin code
# and must not: it stops on SIGTERM with exit 0, prints the final stats,
# removes its pidfile, and every frame the kernel took is accounted for.
# (a) Frames sent before the overwrite, then a stop: the workers die, if
# at all, only while stopping, and nothing is lost.  (b) Frames sent after
# it: a worker that crashes on one quarantines that frame, and its
# successor refuses the file, which is now another plugin ("reload to
# apply"): the worker fails, and the frames that then wait in its ring are
# counted as dropped at the stop.  Every frame is accounted for either way.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

K=4000
PLUG=$RF_TMP/plug
NEW=$PLUGIN_PATH_TEST/options.so
[ -f "$NEW" ] || rf_fail "no $NEW"

rf_link

# handled_all N: the workers took N frames, as handled or quarantined.
handled_all()
{
	rf_ctl_test stats "([.captures[0].workers[] | .packets + .quarantined]
	    | add) == $1"
}

# run PHASE: starts ringfan on a fresh copy of counter.so listed first in
# plugin_path, sends K frames, overwrites the copy in place, sends
# $AFTER more, stops and checks what every stop must leave.
run()
{
	local phase=$1 total=$((K + AFTER)) ino w kp p kd q fate state

	rm -rf "$PLUG"
	mkdir "$PLUG"
	cp "$PLUGIN_PATH_BUILD/counter/counter.so" "$PLUG/counter.so"
	rf_config 2 hash "udp port 9" "plugin: counter"
	sed -i "s|^plugin_path: \[|plugin_path: [\"$PLUG\", |" "$RF_CONF"
	grep -qF "plugin_path: [\"$PLUG\"," "$RF_CONF" ||
	    rf_fail "$phase: plugin_path not rewritten"
	rf_start
	[ -s "$RF_TMP/ringfan.pid" ] || rf_fail "$phase: no pidfile"
	rf_send -t udp -n "$K" -f 256 -r 20000 -s 64
	rf_wait_until 10 "$phase: $K frames handled" handled_all "$K"

	ino=$(stat -c %i "$PLUG/counter.so")
	cp "$NEW" "$PLUG/counter.so"
	rf_expect "$phase: inode after cp" "$(stat -c %i "$PLUG/counter.so")" \
	    "$ino"
	if [ "$AFTER" -gt 0 ]; then
		rf_send -t udp -n "$AFTER" -f 256 -r 20000 -s 64
		rf_wait_until 20 "$phase: every worker done or failed" \
		    rf_ctl_test stats "all(.captures[0].workers[];
		    .state == \"failed\" or .state == \"running\") and
		    ([.captures[0].workers[] | select(.state == \"running\") |
		    .kernel_packets - .packets - .quarantined] | add // 0) == 0"
	fi

	rf_stop		# exit 0 and a JSON document on stdout
	echo "ok: $phase: the master exited 0 and printed the final stats"
	[ ! -e "$RF_TMP/ringfan.pid" ] ||
	    rf_fail "$phase: the pidfile is still there"
	echo "ok: $phase: pidfile removed"

	rf_expect "$phase: totals.kernel_packets" \
	    "$(rf_num '.captures[0].totals.kernel_packets')" "$total"

	for w in 0 1; do
		kp=$(rf_num ".captures[0].workers[$w].kernel_packets")
		p=$(rf_num ".captures[0].workers[$w].packets")
		kd=$(rf_num ".captures[0].workers[$w].kernel_drops")
		q=$(rf_num ".captures[0].workers[$w].quarantined")
		state=$(rf_json ".captures[0].workers[$w].state")
		if [ "$state" = failed ]; then
			grep -q "plugin counter: $PLUG/counter.so is now plugin options: reload to apply" \
			    "$RF_ERR" || rf_fail "$phase: worker $w failed" \
			    "without saying why"
			echo "ok: $phase: worker $w refused the replaced file"
		else
			rf_expect "$phase: worker $w state" "$state" stopped
			rf_expect "$phase: worker $w kernel_drops" "$kd" 0
		fi
		rf_expect "$phase: worker $w kernel_packets" "$kp" \
		    $((p + kd + q))
		# Each death skips at most the one frame in hand.
		[ "$q" -le "$(rf_num ".captures[0].workers[$w].restarts")" ] ||
		    rf_fail "$phase: worker $w quarantined $q frames in" \
		    "fewer deaths"
		# How the worker ended, for the log: either is fine (its
		# state and counts are checked above).
		fate=$(grep -E "worker test/$w \(pid [0-9]+\) killed by signal [0-9]+ \([^)]*\) while stopping$" \
		    "$RF_ERR" || true)
		echo "ok: $phase: worker $w ${fate:+crashed at the stop: }${fate:-stopped cleanly}"
	done
	if [ "$AFTER" -eq 0 ]; then
		rf_expect "$phase: totals.kernel_drops" \
		    "$(rf_num '.captures[0].totals.kernel_drops')" 0
		rf_expect "$phase: totals.packets" \
		    "$(rf_num '.captures[0].totals.packets')" "$K"
		rf_expect "$phase: totals.quarantined" \
		    "$(rf_num '.captures[0].totals.quarantined')" 0
	fi
}

AFTER=0 run "(a) stop after overwrite"
AFTER=$K run "(b) frames after overwrite"
