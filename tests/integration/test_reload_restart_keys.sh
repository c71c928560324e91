#!/bin/bash
# A reload that rebuilds the captures (here workers 1 -> 2) and also
# changes keys that only a restart applies (control.pidfile, log.syslog)
# logs "reload: KEY changes at the next start" for each, as a pipeline
# reload does, and keeps the pidfile it holds.  Those keys keep their
# values in force, so a later reload compares with them.
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
rf_wait_running 5 2
for key in control.pidfile log.syslog; do
	grep -q "reload: $key changes at the next start$" "$RF_ERR" ||
	    rf_fail "no \"$key changes at the next start\" in the log"
done
[ -f "$RF_TMP/ringfan.pid" ] || rf_fail "the pidfile taken at start is gone"
[ ! -e "$RF_TMP/other.pid" ] || rf_fail "the new pidfile was taken"

# What is in force is what ringfan started with: a file that puts those
# keys back changes nothing at the next start, and a pipeline reload that
# sets metrics_listen and then drops it says so once.
sed -i "s|^  pidfile: .*|  pidfile: \"$RF_TMP/ringfan.pid\"|; /^log: /d" \
    "$RF_CONF"
rf_expect "reload back" "$(rf_ctl_json reload .result)" unchanged
echo "metrics_listen: 127.0.0.1:1" >>"$RF_CONF"
rf_expect "reload, metrics_listen" "$(rf_ctl_json reload .result)" unchanged
sed -i '/^metrics_listen: /d' "$RF_CONF"
rf_expect "reload, no metrics_listen" "$(rf_ctl_json reload .result)" \
    unchanged
for key in control.pidfile log.syslog metrics_listen; do
	rf_expect "lines \"$key changes at the next start\"" \
	    "$(grep -c "reload: $key changes at the next start$" "$RF_ERR")" 1
done
RF_WORKERS=2
rf_stop
echo "PASS"
