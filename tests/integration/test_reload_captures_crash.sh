#!/bin/bash
# A captures reload whose new worker 1 dies in a plugin's open: the
# reload's answer names the worker, how it died and the plugin's open, as
# the log line does, and the previous captures run on with every count
# they had.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

rf_link
rf_config 2 hash "" "plugin: counter"
rf_start
rf_send -t udp -n 300 -f 16 -s 80
rf_wait_until 5 "the 300 frames counted" rf_ctl_test stats \
    '.captures[0].totals.packets == 300'

# Another ring rebuilds the captures; the new worker 1 dies in ctxprobe's
# open (the check's trial open, as worker 0, passes).
sed -i 's/block_count: 32/block_count: 16/' "$RF_CONF"
echo "      - { plugin: ctxprobe, config: { open: crash, open_worker: 1 } }" \
    >>"$RF_CONF"
rc=0
"$RINGFANCTL" -s "$RF_TMP/control.sock" reload >"$RF_TMP/reload.out" \
    2>&1 || rc=$?
rf_expect "ringfanctl reload: exit status" "$rc" 1
rf_expect "the reload's answer" "$(cat "$RF_TMP/reload.out")" \
    "ringfanctl: reload: new worker test/1 did not start: killed by signal 11 (Segmentation fault) in plugin ctxprobe's open"

rf_ctl_test stats '.captures[0].totals.packets == 300 and
    ([.captures[0].workers[] | select(.state == "running")] | length) == 2' ||
    rf_fail "the counts or the workers were not kept"
echo "ok: counts and workers kept"
rf_send -t udp -n 200 -f 16 -s 80
rf_stop
rf_expect_all 500
echo "PASS"
