#!/bin/bash
# Reload.  (a) A broken file, by `ringfanctl reload` and by SIGHUP, is
# refused with FILE:LINE:COL and changes nothing.  (b) A pipeline change,
# under steady traffic, restarts the workers one at a time on the same
# sockets: the new plugin runs and not a frame is lost or seen twice.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

K=16000

rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
cp "$RF_CONF" "$RF_TMP/good.yaml"
rf_start
pids=$(rf_pids)

# (a) An unknown key in the capture, on the line after "workers:", at the
# capture's indentation (column 5).
line=$(grep -n '^    workers: 2$' "$RF_CONF" | cut -d: -f1)
[[ "$line" =~ ^[0-9]+$ ]] || rf_fail "no workers line in $RF_CONF"
line=$((line + 1))
sed -i "$((line - 1))a\\    bogus_key: 1" "$RF_CONF"
rf_expect "inserted line" "$(sed -n "${line}p" "$RF_CONF")" "    bogus_key: 1"
want="$RF_CONF:$line:5: unknown key \"bogus_key\""

rc=0
rf_ctl reload >"$RF_TMP/reload.out" 2>"$RF_TMP/reload.err" || rc=$?
rf_expect "ringfanctl reload of a broken file: exit status" "$rc" 1
rf_expect "its stderr" "$(cat "$RF_TMP/reload.err")" "ringfanctl: $want"
rf_expect "its stdout" "$(cat "$RF_TMP/reload.out")" ""
rf_expect "status.reloads" "$(rf_ctl_num status .reloads)" 0
rf_expect "status.last_reload_error" \
    "$(rf_ctl_json status .last_reload_error)" "$want"
rf_expect "status.state" "$(rf_ctl_json status .state)" running
rf_expect "worker pids unchanged" \
    "$(rf_pids)" "$pids"
rf_expect "plugins unchanged" \
    "$(rf_ctl_json plugins '[.captures[0].plugins[].name] | join(",")')" \
    counter
rf_expect "--json reload of a broken file: exit status" \
    "$(rf_ctl --json reload >/dev/null 2>&1 && echo 0 || echo $?)" 1

# The same by SIGHUP: logged, and the master keeps running unchanged.
n=$(grep -cF "reload failed, configuration unchanged: $want" "$RF_ERR" ||
    true)
rf_expect "reload errors logged so far" "$n" 2
hup_logged()
{
	[ "$(grep -cF "reload failed, configuration unchanged: $want" \
	    "$RF_ERR")" -eq 3 ]
}
kill -HUP "$RF_PID"
rf_wait_until 5 "the SIGHUP reload's error in the log" hup_logged
rf_alive "$RF_PID" || rf_fail "the master died of SIGHUP with a broken file"
rf_expect "status.reloads after SIGHUP" "$(rf_ctl_num status .reloads)" 0
rf_expect "status.last_reload_error after SIGHUP" \
    "$(rf_ctl_json status .last_reload_error)" "$want"
rf_expect "worker pids unchanged after SIGHUP" \
    "$(rf_pids)" "$pids"
rf_expect "capture state after SIGHUP" \
    "$(rf_ctl_json status '.captures[0].state')" running

# (b) The file fixed, with `options` after counter in the pipeline.
cp "$RF_TMP/good.yaml" "$RF_CONF"
echo "      - { plugin: options, config: { count: 42 } }" >>"$RF_CONF"
"$RINGFAN" -c "$RF_CONF" -t 2>/dev/null || rf_fail "the new file is invalid"

rf_send_bg -t udp -n "$K" -f 256 -r 4000 -s 64
rf_wait_flowing 2000
rf_ctl --json reload >"$RF_TMP/reload.json" 2>"$RF_TMP/reload.err" ||
    rf_fail "ringfanctl reload failed: $(cat "$RF_TMP/reload.err")"
rf_expect "reload.ok" "$(jq -r .ok "$RF_TMP/reload.json")" true
rf_expect "reload.result" "$(jq -r .result "$RF_TMP/reload.json")" pipeline
# The reply waits until every worker runs the new pipeline: no polling.
rf_ctl_test plugins '[.captures[0].plugins[].name] == ["counter", "options"]' ||
    rf_fail "options not in the pipeline when reload answered"
rf_ctl_test status '.captures[0].state == "running" and
    .captures[0].running == 2' ||
    rf_fail "not every worker running when reload answered"
rf_ctl_test workers 'all(.workers[]; .state == "running")' ||
    rf_fail "a worker not running when reload answered"
rf_alive "$RF_SEND_PID" || rf_fail "the traffic ended before the restarts did"
newpids=$(rf_pids)
for p in ${pids//,/ }; do
	[[ ",$newpids," != *",$p,"* ]] ||
	    rf_fail "worker pid $p survived the pipeline reload ($newpids)"
done
echo "ok: both workers restarted ($pids -> $newpids)"
rf_expect "status.reloads" "$(rf_ctl_num status .reloads)" 1
rf_expect "status.last_reload_error" \
    "$(rf_ctl_json status .last_reload_error)" null
rf_send_wait
rf_expect "a second reload of the same file" \
    "$(rf_ctl_json reload .result)" unchanged
rf_stop

rf_expect_all "$K"
rf_expect "sum of restarts" "$(rf_sum .restarts)" 0
rf_expect "sum of counter.ethernet" "$(rf_sum .plugins.counter.ethernet)" "$K"
for w in 0 1; do
	rf_expect "worker $w options.count" \
	    "$(rf_num ".captures[0].workers[$w].plugins.options.count")" 42
done
echo "PASS"
