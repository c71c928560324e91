#!/bin/bash
# Plugin counters across pipeline reloads that give a step another plugin
# or other steps (docs/control.md, "plugins"):
# (a) step s runs batcher, then ctxprobe: s shows ctxprobe's counters only,
#     and its `frames` counts its own frames, not batcher's before it;
# (b) step s runs options (a counter `count`), then hostmem (a gauge
#     `count`): the reload stands;
# (c) 30 reloads, each to three steps of other names (3 counters each,
#     270 in all against 256 slots a worker): every one stands, and the
#     last steps count their frames.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

rf_link
rf_config 1 hash "udp port 9" "{ plugin: batcher, name: s }"
rf_start

# pipeline ENTRY...: the pipeline of $RF_CONF is the ENTRYs, reloaded.
pipeline()
{
	sed -i '/^    pipeline:/,$d' "$RF_CONF"
	echo "    pipeline:" >>"$RF_CONF"
	printf '      - %s\n' "$@" >>"$RF_CONF"
	rf_expect "reload to $*" "$(rf_ctl_json reload .result)" pipeline
	rf_wait_until 5 "the worker running $1" rf_ctl_test workers \
	    '.workers[0].state == "running"'
}

# sent N FILTER: N frames sent, then the stats' step s counters, with the
# frames counted, satisfy FILTER.
sent()
{
	local total

	rf_send -t udp -n "$1" -f 4 -s 64
	total=$(rf_ctl_num stats '.captures[0].totals.kernel_packets')
	rf_wait_until 5 "the frames handled" rf_ctl_test stats \
	    ".captures[0].totals.packets == $total"
	rf_ctl_test stats ".captures[0].workers[0].plugins | $2" ||
	    rf_fail "after $1 frames: plugins $(rf_ctl_json stats \
	    '.captures[0].workers[0].plugins' | jq -c .), not $2"
	echo "ok: $2"
}

# (a)
sent 100 '.s.frames == 100 and .s.calls > 0'
pipeline "{ plugin: ctxprobe, name: s }"
sent 50 '.s.frames == 50 and (.s | has("calls") or has("bytes") | not)'

# (b)
pipeline "{ plugin: options, name: s }"
rf_ctl_test stats '.captures[0].workers[0].plugins.s | has("count")' ||
    rf_fail "options: no counter count"
pipeline "{ plugin: hostmem, name: s }"
sent 10 '.s.frames == 10 and (.s | has("count") | not)'
rf_ctl_test stats '.captures[0].workers[0].gauges.s | has("count")' ||
    rf_fail "hostmem: no gauge count"
echo "ok: a counter's name is a gauge's under another plugin"

# (c)
for ((i = 1; i <= 30; i++)); do
	pipeline "{ plugin: batcher, name: a$i }" \
	    "{ plugin: batcher, name: b$i }" "{ plugin: batcher, name: c$i }"
done
sent 20 '(keys == ["a30", "b30", "c30"]) and .a30.frames == 20 and
    .b30.frames == 20 and .c30.frames == 20'
rf_stop
rf_expect "final: the last step's frames" \
    "$(rf_num '.captures[0].workers[0].plugins.c30.frames')" 20
rf_expect "worker restarts" "$(rf_json '.captures[0].workers[0].restarts')" 0
echo "PASS"
