#!/bin/bash
# A pipeline reload under traffic rolled back by a worker that dies while
# it already runs the new pipeline: worker 1, stopped (SIGSTOP), holds the
# rolling restart, and worker 0, restarted on the new pipeline and
# counting frames there, is killed (SIGKILL).  What it handled is in the
# new pipeline's host memory (a flow table, a pcap write buffer), which
# the rollback gives up: it is started on the new pipeline once more to
# close it (docs/architecture.md, Reload), so that after a graceful stop
# the flow records and the pcap files hold every frame the workers
# handled, as after any crash.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
need_tools tcpdump

rf_link
mkdir "$RF_TMP/pcap"
rf_config 2 hash "udp port 9" "plugin: counter" \
    "{ plugin: flowtable, config: { output: \"$RF_TMP/flows-{worker}.json\", idle_timeout: 30s } }" \
    "{ plugin: pcapwriter, config: { directory: \"$RF_TMP/pcap\" } }"
rf_start

rf_send_bg -t udp -n 60000 -f 64 -r 10000 -s 64
rf_wait_until 10 "frames on both workers" rf_ctl_test stats \
    '[.captures[0].workers[] | .packets > 0] | all'
pid0=$(rf_ctl_num workers '.workers[0].pid')
pid1=$(rf_ctl_num workers '.workers[1].pid')
kill -STOP "$pid1"
sed -i 's/idle_timeout: 30s/idle_timeout: 20s/' "$RF_CONF"
rf_reload_bg
# Worker 0 goes first; worker 1, stopped, then holds the reload until the
# stall watch kills it (stall_timeout, 5 s).
rf_wait_until 10 "worker 0 on the new pipeline, with frames" rf_ctl_test \
    stats ".captures[0].workers[0] | .pid != $pid0 and .state == \"running\"
    and .plugins.pcapwriter.frames > 0"
new0=$(rf_ctl_num workers '.workers[0].pid')
kill -KILL "$new0"
rf_reload_end "the reload" 1
kill -CONT "$pid1" 2>/dev/null || true
grep -Eqx "ringfanctl: reload: worker test/0: .*; every worker is back on the previous pipeline" \
    "$RF_TMP/reload.err" ||
    rf_fail "the reload was not rolled back: $(cat "$RF_TMP/reload.err")"
rf_send_wait
rf_stop

rf_written "$RF_TMP"
rf_all_written
rf_expect "pcapwriter frames_dropped" \
    "$(rf_sum '.plugins.pcapwriter.frames_dropped')" 0
rf_expect "worker closing the new pipeline" \
    "$(grep -c "started on the new pipeline again, to close what it left" \
    "$RF_ERR")" 1
