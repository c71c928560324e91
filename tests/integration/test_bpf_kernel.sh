#!/bin/bash
# A capture filter that libpcap compiles but the kernel's BPF does not take
# is a config error at its position: `protochain` compiles into a loop (a
# backward jump), which SO_ATTACH_FILTER refuses with EINVAL.  `ringfan -t`
# exits 1 naming the cause, and a reload to it is refused with the same
# message and leaves the capture running as it was, where -t passed and the
# start or reload failed with a bare "setsockopt(SO_ATTACH_FILTER, bpf):
# Invalid argument".
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

rf_link
rf_config 1 hash "udp port 9" "plugin: counter"
rf_start
rf_send -t udp -n 5 -f 1
rf_set_bpf "udp port 9 or ip protochain 6"
at=$(grep -n '^    bpf: ' "$RF_CONF" | cut -d: -f1):10
want="$RF_CONF:$at: bpf: the kernel does not take the filter as compiled: libpcap makes a loop of \`protochain\`, and the kernel's BPF runs none"

rc=0
"$RINGFAN" -c "$RF_CONF" -t >"$RF_TMP/t.out" 2>"$RF_TMP/t.err" || rc=$?
rf_expect "-t exit status" "$rc" 1
rf_expect "-t stderr" "$(cat "$RF_TMP/t.err")" "ringfan: $want"
rf_expect "-t stdout" "$(cat "$RF_TMP/t.out")" ""

rf_reload_fails "protochain" "$want" counter
rf_expect "status.reloads" "$(rf_ctl_num status .reloads)" 0
rf_send -t udp -n 5 -f 1
rf_stop
rf_expect "packets" "$(jq '.captures[0].totals.packets' "$RF_STATS")" 10
echo "PASS"
