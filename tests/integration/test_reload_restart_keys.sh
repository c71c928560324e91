#!/bin/bash
# A reload that rebuilds the captures (here workers 1 -> 2) and also
# changes keys that only a restart applies (control.pidfile, log.syslog)
# logs "reload: KEY changes at the next start" for each, as a pipeline
# reload does, and keeps the pidfile it holds.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

rf_link
rf_config 1 hash "udp port 9" "plugin: counter"
rf_start
sed -i "s|^  pidfile: .*|  pidfile: \"$RF_TMP/other.pid\"|;
    s/^    workers: 1$/    workers: 2/" "$RF_CONF"
echo "log: { syslog: true }" >>"$RF_CONF"
rf_expect "reload" "$(rf_ctl_json reload .result)" captures
rf_wait_until 5 "two workers running" rf_ctl_test workers \
    '[.workers[] | select(.state == "running")] | length == 2'
for key in control.pidfile log.syslog; do
	grep -q "reload: $key changes at the next start$" "$RF_ERR" ||
	    rf_fail "no \"$key changes at the next start\" in the log"
done
[ -f "$RF_TMP/ringfan.pid" ] || rf_fail "the pidfile taken at start is gone"
[ ! -e "$RF_TMP/other.pid" ] || rf_fail "the new pidfile was taken"
RF_WORKERS=2
rf_stop
echo "PASS"
