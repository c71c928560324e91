#!/bin/bash
# The `metrics` reply is what Prometheus accepts: `promtool check metrics`
# finds nothing to say about it, every family has one HELP and one TYPE with
# all its samples under them, and the numbers are exact: the frames sent,
# summed over the workers, as ringfan_packets_total and as the counter
# plugin's udp events; no plugin reports an error, in the metrics as in the
# JSON documents they are made from.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
need_tools promtool

K=3000
W=2

rf_link
rf_config "$W" hash "udp port 9" "plugin: counter"
rf_start
rf_send -t udp -n "$K" -f 64 -s 64 -r 20000
rf_wait_until 5 "$K frames handled" rf_ctl_test stats \
    ".captures[0].totals.packets == $K"

M=$RF_TMP/metrics.txt
rc=0
rf_ctl metrics >"$M" 2>"$RF_TMP/ctl.err" || rc=$?
rf_expect "ringfanctl metrics exit status" "$rc" 0
rf_expect "ringfanctl metrics stderr" "$(cat "$RF_TMP/ctl.err")" ""
rf_ctl_json stats . >"$RF_TMP/stats.json"

# What ringfan_plugin_level and ringfan_plugin_error are made from, as
# --json hands it on: the counter keeps no gauge and reports no problem.
rf_expect "stats: gauges and errors of the workers" "$(jq -r \
    '[.captures[0].workers[] | {gauges, errors}] | unique | tojson' \
    "$RF_TMP/stats.json")" '[{"gauges":{"counter":{}},"errors":{}}]'
rf_expect "workers: errors" \
    "$(rf_ctl_json workers '[.workers[].errors] | unique | tojson')" '[{}]'
rf_expect "plugins: errors" "$(rf_ctl_json plugins \
    '[.captures[0].plugins[] | {name, errors}] | tojson')" \
    '[{"name":"counter","errors":[]}]'

rf_promtool_clean "$M" "the metrics reply"

# Each family: exactly one HELP and one TYPE, and every sample after the
# TYPE of its own family, before the next family starts.
awk '
/^# HELP / { help[$3]++; next }
/^# TYPE / { type[$3]++; family = $3; next }
/^#/ { next }
{
	name = $1
	sub(/\{.*/, "", name)
	if (name != family) {
		printf "sample of %s under the TYPE of %s\n", name, family
		bad = 1
	}
}
END {
	for (n in type)
		if (type[n] != 1 || help[n] != 1) {
			printf "%s: %d HELP, %d TYPE lines\n", n, help[n], type[n]
			bad = 1
		}
	for (n in help)
		if (!(n in type)) {
			printf "%s: HELP without TYPE\n", n
			bad = 1
		}
	exit bad
}' "$M" >"$RF_TMP/families.out" || rf_fail "metric families:" \
    "$(cat "$RF_TMP/families.out")"
echo "ok: one HELP and TYPE per family, samples grouped"

# The backlog is measured as the worker is done with a block (docs/control.md).
rf_expect "HELP of ringfan_ring_backlog_blocks" \
    "$(grep '^# HELP ringfan_ring_backlog_blocks ' "$M")" \
    "# HELP ringfan_ring_backlog_blocks Blocks the kernel had handed over and the worker not yet released when it was last done with one, that one included."

for m in uptime_seconds:gauge packets_total:counter bytes_total:counter \
    kernel_packets_total:counter kernel_drops_total:counter \
    kernel_freeze_q_total:counter quarantined_total:counter \
    worker_restarts_total:counter worker_up:gauge \
    plugin_events_total:counter plugin_level:gauge plugin_error:gauge; do
	rf_expect "TYPE of ringfan_${m%%:*}" \
	    "$(grep -cx "# TYPE ringfan_${m%%:*} ${m#*:}" "$M")" 1
done
rf_expect "lines naming ringfan_plugin_counter_total" \
    "$(grep -c ringfan_plugin_counter_total "$M" || true)" 0

# msum NAME LABELS: the values of the samples of NAME whose labels match the
# extended regular expression LABELS in full, summed.  The regex goes through
# the environment: awk -v would read its backslashes as escapes.
msum()
{
	MSUM_RE="^$1[{]$2[}] " awk '$0 ~ ENVIRON["MSUM_RE"] { s += $NF }
	    END { printf "%d\n", s }' "$M"
}

rf_expect "sum of ringfan_packets_total" \
    "$(msum ringfan_packets_total 'capture="test",worker="[0-9]+"')" "$K"
rf_expect "sum of the counter plugin's udp events" \
    "$(msum ringfan_plugin_events_total \
    'capture="test",worker="[0-9]+",plugin="counter",name="udp"')" "$K"
for ((w = 0; w < W; w++)); do
	l="capture=\"test\",worker=\"$w\""
	rf_expect "worker $w: ringfan_packets_total as in stats" \
	    "$(msum ringfan_packets_total "$l")" \
	    "$(jq -r ".captures[0].workers[$w].packets" "$RF_TMP/stats.json")"
	rf_expect "worker $w: counter udp events as in stats" \
	    "$(msum ringfan_plugin_events_total \
	    "$l,plugin=\"counter\",name=\"udp\"")" \
	    "$(jq -r ".captures[0].workers[$w].plugins.counter.udp" \
	    "$RF_TMP/stats.json")"
	rf_expect "worker $w: ringfan_plugin_error of counter" \
	    "$(grep -cx "ringfan_plugin_error{$l,plugin=\"counter\"} 0" "$M")" 1
	rf_expect "worker $w: ringfan_worker_up" \
	    "$(grep -cx "ringfan_worker_up{$l} 1" "$M")" 1
done
rf_expect "ringfan_plugin_error samples" \
    "$(grep -c '^ringfan_plugin_error{' "$M")" "$W"

rf_stop
rf_expect "final totals.packets" "$(rf_num '.captures[0].totals.packets')" "$K"
echo "PASS"
