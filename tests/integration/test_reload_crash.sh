#!/bin/bash
# A reload whose new pipeline passes validation (its check is fine) but
# whose open dies in worker 1, or never returns there while frames wait:
# either is a failure of the new pipeline, as an open that says FAIL is.
# Every worker must go back to the previous pipeline, the reload's reply
# and status must say which worker, how it ended and in which plugin's
# open, the capture keeps running, and nothing of the traffic is lost.
#  1. open: crash (SIGSEGV inside ctxprobe's open), logged with the plugin.
#  2. open: hang (pause() inside ctxprobe's open), with the stall watch
#     at 1 s: frames wait for the worker, so it is a stall.
#  3. A plugin that dies on its first frame (crash, always): worker 0, the
#     first restarted, dies in its `packet`, which the error names, while
#     worker 1 is still opening (ctxprobe sleeps 800 ms there, longer than
#     a block takes); that one frame is quarantined, as after any crash.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

K=30000
rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
sed -i '1i stall_timeout: 1s' "$RF_CONF"
# A block is retired every block_timeout however few frames it holds: 32
# blocks of 200 ms hold the 1500 frames/s of a worker for 6 s, through the
# stall and the rollback.
rf_set_ring 64KiB 32 200ms
cp "$RF_CONF" "$RF_TMP/good.yaml"
rf_start
rf_send_bg -t udp -n "$K" -f 256 -r 3000 -s 64
rf_wait_flowing 1000

# reload_fails HOW CAUSE: a reload to ctxprobe with `open: HOW` in worker
# 1 is answered with the error that names CAUSE, and leaves every worker
# running the previous pipeline.
reload_fails()
{
	local how=$1 cause=$2 want

	cp "$RF_TMP/good.yaml" "$RF_CONF"
	echo "      - { plugin: ctxprobe, config: { open: $how, open_worker: 1 } }" \
	    >>"$RF_CONF"
	"$RINGFAN" -c "$RF_CONF" -t 2>/dev/null ||
	    rf_fail "open: $how does not pass -t: its check should be fine"
	want="reload: worker test/1: $cause in plugin ctxprobe's open; every worker is back on the previous pipeline"
	rf_reload_fails "open: $how" "$want" counter
	rf_alive "$RF_SEND_PID" ||
	    rf_fail "open: $how: the traffic ended before the rollback did"
}

reload_fails crash "killed by signal 11 (Segmentation fault)"
# The log line of the death names the plugin too, as outside a reload.
grep -q "worker test/1 (pid [0-9]*) killed by signal 11 (Segmentation fault) in plugin ctxprobe's open$" \
    "$RF_ERR" || rf_fail "the crash in open is logged without its plugin:" \
    "$(grep 'killed by signal 11' "$RF_ERR")"
reload_fails hang "killed after a stall"
grep -q "worker test/1 (pid [0-9]*) stalled in plugin ctxprobe's open: no progress" \
    "$RF_ERR" || rf_fail "the stall in open is not logged as one"

# 3. First in the pipeline, so that no plugin has counted the frame.
sed 's/^\(    pipeline:\)$/\1\n      - { plugin: crash, config: { always: true } }/' \
    "$RF_TMP/good.yaml" >"$RF_CONF"
echo "      - { plugin: ctxprobe, config: { open_delay: 800ms, open_worker: 1 } }" \
    >>"$RF_CONF"
rf_reload_fails "packet crashes" "reload: worker test/0: killed by signal 11 (Segmentation fault) in plugin crash; every worker is back on the previous pipeline" counter
rf_alive "$RF_SEND_PID" ||
    rf_fail "packet crashes: the traffic ended before the rollback did"
rf_send_wait
rf_stop

rf_expect "totals.kernel_packets" \
    "$(rf_num '.captures[0].totals.kernel_packets')" "$K"
rf_expect "totals.kernel_drops" "$(rf_num '.captures[0].totals.kernel_drops')" 0
rf_expect "totals.quarantined" "$(rf_num '.captures[0].totals.quarantined')" 1
rf_expect "totals.packets" "$(rf_num '.captures[0].totals.packets')" $((K - 1))
rf_expect "sum of counter.ethernet" "$(rf_sum .plugins.counter.ethernet)" \
    $((K - 1))
rf_expect "worker 1 stalls" "$(rf_num '.captures[0].workers[1].stalls')" 1
rf_expect "worker 1 restarts" "$(rf_num '.captures[0].workers[1].restarts')" 2
rf_expect "worker 0 restarts" "$(rf_num '.captures[0].workers[0].restarts')" 1
for w in 0 1; do
	rf_expect "worker $w: kernel_packets = packets + kernel_drops + quarantined" \
	    "$(rf_num ".captures[0].workers[$w] | .kernel_packets - .packets - .kernel_drops - .quarantined")" 0
done
echo "PASS"
