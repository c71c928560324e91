#!/bin/bash
# A filter is kept under whether it was compiled on a live handle of its
# interface (`vlan` compiles differently there, test_bpf_vlan.sh), not
# whether the interface was there when the reload listed it: the interface
# gone while the child compiles an earlier capture's long filter, `vlan
# 100` of the next was compiled on a dead handle and kept as if on a live
# one, and once the interface came back, its sockets took that program,
# which passes no tagged frame.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N=40

# config BPF-A BPF-B: captures a and b on CAP, each waiting for it.
config()
{
	local name bpf group=$RF_GROUP

	{
		rf_config_head
		for name in a b; do
			bpf=$1
			shift
			cat <<-YAML
			  - name: $name
			    interface: $RF_CAP
			    wait_for_interface: true
			    workers: 1
			    cpu_affinity: none
			    bpf: "$bpf"
			    fanout: { mode: hash, group: $group, defrag: false }
			    ring: { block_size: 64KiB, block_count: 16, block_timeout: 10ms }
			    pipeline:
			      - plugin: counter
			YAML
			group=$((group + 1))
		done
	} >"$RF_CONF"
}

rf_link
config "udp port 7" "udp port 7"
RF_WORKERS=2
rf_start

# a's filter takes libpcap most of a second or more: CAP goes meanwhile.
config "$(rf_bpf_hosts 250)" "vlan 100"
rf_reload_bg
rf_wait_until 10 "the first child" rf_compilers_at_least 1
ip link del "$RF_CAP"
rf_reload_end "CAP gone" 0
rf_expect "reload result" "$(cat "$RF_TMP/reload.out")" "reload: ok (captures)"

rf_veth
rf_wait_until 10 "b running again" rf_ctl_test status \
    '.captures[1].state == "running"'
rf_send -t vlan -n "$N" -f 1
rf_stop
rf_expect "b: tagged frames" "$(rf_num '.captures[1].totals.packets')" "$N"
echo "PASS"
