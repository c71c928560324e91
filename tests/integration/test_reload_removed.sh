#!/bin/bash
# A reload that removes a capture logs the counts of each of its workers,
# as `stats` last showed them: after an earlier capture reload that gave the
# capture new workers, that count includes what the workers before them
# handled (it named only the last generation's own frames, 0 here).
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

K1=300 K2=200

rf_link
rf_link2

# rf_two_captures WORKERS-OF-ONE [two]: $RF_CONF with capture one on CAP,
# and capture two on CAP2 when asked.
rf_two_captures()
{
	{
		rf_config_head
		cat <<-YAML
		  - name: one
		    interface: $RF_CAP
		    workers: $1
		    cpu_affinity: none
		    bpf: "udp port 9"
		    fanout: { mode: hash, group: $RF_GROUP }
		    ring: { block_size: 64KiB, block_count: 16, block_timeout: 10ms }
		    pipeline: [ { plugin: counter } ]
		YAML
		[ $# -lt 2 ] || cat <<-YAML
		  - name: two
		    interface: $CAP2
		    workers: 1
		    cpu_affinity: none
		    bpf: "udp port 9"
		    fanout: { mode: lb, group: $((RF_GROUP + 1)) }
		    ring: { block_size: 64KiB, block_count: 16, block_timeout: 10ms }
		    pipeline: [ { plugin: counter } ]
		YAML
	} >"$RF_CONF"
}

rf_two_captures 1 two
RF_WORKERS=2
rf_start
rf_send -t udp -n "$K1" -f 8 -r 20000
ip netns exec "$RF_NS" "$RFSEND" -i "$GEN2" -q -t udp -n "$K2" -f 8 -r 20000
rf_wait_until 5 "two's frames counted" rf_ctl_test stats \
    ".captures[1].totals.packets == $K2"

# One gets a second worker: every capture gets a new generation.
rf_two_captures 2 two
rf_expect "reload 1" "$(rf_ctl_json reload .result)" captures
rf_expect "two's packets after reload 1" \
    "$(rf_ctl_num stats '.captures[1].totals.packets')" "$K2"

# Two goes; its last count is in the log.
rf_two_captures 2
rf_expect "reload 2" "$(rf_ctl_json reload .result)" captures
rf_expect "captures after reload 2" \
    "$(rf_ctl_num stats '.captures | length')" 1
rf_expect "one's packets after reload 2" \
    "$(rf_ctl_num stats '.captures[0].totals.packets')" "$K1"
rf_expect "the removal's log line" \
    "$(grep -o "capture two removed: .*" "$RF_ERR")" \
    "capture two removed: worker 0 had handled $K2 frames (kernel_packets $K2, kernel_drops 0, quarantined 0)"
rf_stop
rf_expect "one's final packets" "$(rf_num '.captures[0].totals.packets')" "$K1"
echo "PASS"
