#!/bin/bash
# A reload that rebuilds the captures and is given up (a new worker does
# not start) keeps the previous captures, and the previous log.level with
# them: the workers that go on running, which share the level, do not log
# at the new file's debug.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
rf_start
# Another filter rebuilds the captures; worker 1's open fails there.
sed -i 's/^    bpf: "udp port 9"$/    bpf: "udp"/' "$RF_CONF"
sed -i '1i log: { level: debug }' "$RF_CONF"
echo "      - { plugin: ctxprobe, config: { open: fail, open_worker: 1 } }" \
    >>"$RF_CONF"
rc=0
rf_ctl reload >"$RF_TMP/reload.out" 2>"$RF_TMP/reload.err" || rc=$?
rf_expect "reload exit status" "$rc" 1
grep -q "keeping the previous captures" "$RF_ERR" ||
    rf_fail "the swap was not given up: $(cat "$RF_TMP/reload.err")"
rf_send -t udp -n 5 -f 1
rf_stop
! grep -q "^ringfan\[test/[01]\] debug: stopped after" "$RF_ERR" ||
    rf_fail "the previous workers log at the given-up file's debug level"
! grep -q "^ringfan\[master\] debug: " <(sed -n '/keeping the previous/,$p' \
    "$RF_ERR") || rf_fail "the master logs at the given-up file's debug level"
echo "PASS"
