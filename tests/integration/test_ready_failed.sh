#!/bin/bash
# A worker whose pipeline crashes as it opens, in every process the
# master starts for it, is given up on in a crash loop before it ever
# runs: the start still ends with a `ready:` line, which says how many
# workers run and how many failed (it never came before), and the other
# capture counts its frames.  (With -D the parent returns 0 at the first
# worker that ends before the master is ready: test_daemon_setup.)
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

rf_link
rf_link2
{
	rf_config_head
	cat <<-YAML
	  - name: good
	    interface: $RF_CAP
	    workers: 2
	    bpf: "udp port 9"
	    fanout: { mode: hash, group: $RF_GROUP }
	    pipeline: [{ plugin: counter }]
	  - name: bad
	    interface: $CAP2
	    workers: 1
	    fanout: { defrag: false }
	    pipeline: [{ plugin: crash, config: { worker_open: true } }]
	YAML
} >"$RF_CONF"
READY="ready: 2 of 3 workers running on 2 captures, 0 waiting for their interface, 1 failed in a crash loop (started again after a cool-down)"

setsid "$RINGFAN" -c "$RF_CONF" >"$RF_TMP/fg.out" 2>"$RF_TMP/fg.err" &
RF_PID=$!
RF_ERR=$RF_TMP/fg.err
rf_wait_until 20 "the ready line" grep -q "ready:" "$RF_ERR"
rf_expect "ready line" "$(grep "ready:" "$RF_ERR")" \
    "ringfan[master] warn: $READY"
rf_expect "crash loop logged" "$(grep -c "worker bad/0 crashed 5 times" \
    "$RF_ERR")" 1
rf_expect "states" "$(rf_ctl_json status \
    '[.captures[] | "\(.name) \(.state) \(.running)"] | join(",")')" \
    "good running 2,bad failed 0"
rf_send -t udp -n 500 -f 16
rf_wait_until 10 "good counted 500" rf_ctl_test stats \
    '[.captures[] | select(.name == "good") | .totals.packets] == [500]'
RF_OUT=$RF_TMP/fg.out
rf_stop

echo PASS
