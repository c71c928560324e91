#!/bin/bash
# A pipeline reload under traffic during which two workers on the previous
# pipeline die: worker 0, stopped (SIGSTOP) as its hand-over comes, is
# killed by the stall watch; worker 1 is killed (SIGKILL) while it waits
# for its turn.  Each left a flow table and a pcap write buffer in the
# previous pipeline's host memory: each is started on that pipeline again
# to close it (docs/architecture.md, Reload), so that after a graceful
# stop the flow records and the pcap files hold every frame the workers
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
sed -i '1i stall_timeout: 2s' "$RF_CONF"
rf_start

rf_send_bg -t udp -n 40000 -f 64 -r 10000 -s 64
# Both workers hold flows and buffered frames when the reload comes.
rf_wait_until 10 "frames on both workers" rf_ctl_test stats \
    '[.captures[0].workers[] | .packets > 0] | all'
# Worker 0 goes first and, stopped, holds the hand-over for stall_timeout:
# worker 1 still waits for its turn on the previous pipeline.
rf_reload_kill_1 's/idle_timeout: 30s/idle_timeout: 20s/'
rf_reload_end "the reload" 0
kill -CONT "$pid0" 2>/dev/null || true
grep -q "stalled while stopped by a signal" "$RF_ERR" ||
    rf_fail "the stopped worker was not killed for a stall"
rf_send_wait
rf_stop

rf_written "$RF_TMP"
rf_all_written
rf_expect "pcapwriter frames_dropped" \
    "$(rf_sum '.plugins.pcapwriter.frames_dropped')" 0
rf_expect "workers closing the previous pipeline" \
    "$(grep -c "started on its previous pipeline, to close what it left" \
    "$RF_ERR")" 2
