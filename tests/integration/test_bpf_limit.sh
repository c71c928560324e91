#!/bin/bash
# A capture filter that libpcap compiles to more instructions than the
# kernel attaches (BPF_MAXINSNS, 4096) is a config error at its position:
# `ringfan -t` exits 1 naming the count, and a reload to it is refused
# with the same message and leaves the capture running as it was, where
# the start or the reload used to fail at SO_ATTACH_FILTER.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

# "len = N" terms cost two instructions each (after a few shared ones).
long=$(seq -s ' ' 1 2200 | sed 's/\([0-9][0-9]*\)/len = \1 or/g; s/ or$//')

rf_link
rf_config 1 hash "udp port 9" "plugin: counter"
rf_start
rf_send -t udp -n 5 -f 1
sed -i "s/^    bpf: .*/    bpf: \"$long\"/" "$RF_CONF"
at=$(grep -n '^    bpf: ' "$RF_CONF" | cut -d: -f1):10
n=$(grep -o 'len = ' "$RF_CONF" | wc -l)
rf_expect "terms in the filter" "$n" 2200

rc=0
"$RINGFAN" -c "$RF_CONF" -t >"$RF_TMP/t.out" 2>"$RF_TMP/t.err" || rc=$?
rf_expect "-t exit status" "$rc" 1
want="$RF_CONF:$at: bpf: the filter compiles to [0-9]* instructions, more than the kernel's 4096"
grep -qx "ringfan: $want" "$RF_TMP/t.err" ||
    rf_fail "-t stderr: $(cut -c1-300 "$RF_TMP/t.err")"
rf_expect "-t stdout" "$(cat "$RF_TMP/t.out")" ""

rc=0
rf_ctl reload >"$RF_TMP/reload.out" 2>"$RF_TMP/reload.err" || rc=$?
rf_expect "reload exit status" "$rc" 1
grep -qx "ringfanctl: $want" "$RF_TMP/reload.err" ||
    rf_fail "reload stderr: $(cut -c1-300 "$RF_TMP/reload.err")"
rf_expect "status.reloads" "$(rf_ctl_num status .reloads)" 0
rf_expect "capture state" "$(rf_ctl_json status '.captures[0].state')" \
    running
rf_send -t udp -n 5 -f 1
rf_stop
rf_expect "packets" "$(jq '.captures[0].totals.packets' "$RF_STATS")" 10
echo "PASS"
