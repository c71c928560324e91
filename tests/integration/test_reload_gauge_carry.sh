#!/bin/bash
# A capture reload carries a plugin's counters into the new workers; a
# pipeline reload that then keeps a name as a gauge (options with
# `level: yes`: its `count` a gauge) shows the gauge alone, not the
# counter's carried total beside it, and a reload back to a counter counts
# from the value the plugin stores, as a fresh start would: the carried
# total went with the name.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

rf_link
rf_config 1 hash "udp port 9" "{ plugin: options, config: { count: 5 } }"
rf_start
W='.captures[0].workers[0]'
rf_expect "count at the start" "$(rf_ctl_num stats "$W.plugins.options.count")" 5

# reload WHAT RESULT: $RF_CONF reloaded, answered RESULT, the worker running.
reload()
{
	rf_expect "reload: $1" "$(rf_ctl_json reload .result)" "$2"
	rf_wait_until 5 "the worker running after $1" rf_ctl_test workers \
	    '.workers[0].state == "running"'
}

# A capture reload: the new worker's 5 beside the 5 carried.
sed -i 's/block_count: 32/block_count: 16/' "$RF_CONF"
reload "new rings" captures
rf_expect "count after the capture reload" \
    "$(rf_ctl_num stats "$W.plugins.options.count")" 10

sed -i 's/config: { count: 5 }/config: { count: 9, level: yes }/' "$RF_CONF"
reload "count a gauge" pipeline
rf_expect "the gauge" "$(rf_ctl_num stats "$W.gauges.options.count")" 9
rf_expect "no counter count beside it" \
    "$(rf_ctl_json stats "$W.plugins.options | has(\"count\")")" false

sed -i 's/config: { count: 9, level: yes }/config: { count: 4 }/' "$RF_CONF"
reload "count a counter again" pipeline
rf_expect "count from what the plugin stores" \
    "$(rf_ctl_num stats "$W.plugins.options.count")" 4
rf_expect "no gauge count" \
    "$(rf_ctl_json stats "$W.gauges.options | has(\"count\")")" false
rf_stop
rf_expect "final count" "$(rf_num "$W.plugins.options.count")" 4
echo "PASS"
