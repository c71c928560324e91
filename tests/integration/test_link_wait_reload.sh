#!/bin/bash
# A capture reload while the captures wait for their interface
# (wait_for_interface): the retiring generation still holds the configured
# fanout group ids, so the new one cannot claim them then, and it has no
# socket that could get an id from the kernel.  Two captures on the same
# interface with their own groups (defrag off: two captures reassembling
# on one interface are refused): once the interface appears, each must
# join a group of its own (the configured one, free by then), and each
# must see every frame.  Sharing one group would split the frames between
# the captures without a word.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

N=1000
GA=$RF_GROUP
GB=$((RF_GROUP + 1))

# two_captures BLOCK_COUNT: $RF_CONF with captures a and b on CAP.
two_captures()
{
	local name group

	{
		rf_config_head
		for name in a b; do
			group=$GA
			[ "$name" = a ] || group=$GB
			cat <<-YAML
			  - name: $name
			    interface: $RF_CAP
			    wait_for_interface: true
			    workers: 2
			    cpu_affinity: none
			    bpf: "udp port 9"
			    fanout: { mode: hash, group: $group, defrag: false }
			    ring: { block_size: 64KiB, block_count: $1, block_timeout: 10ms }
			    pipeline:
			      - plugin: counter
			YAML
		done
	} >"$RF_CONF"
}

[ ! -e "/sys/class/net/$RF_CAP" ] || rf_fail "$RF_CAP exists already"
two_captures 32
RF_WORKERS=4
rf_start
rf_expect "state of a at start" "$(rf_ctl_json status '.captures[0].state')" \
    waiting

# A capture change while waiting: new generation, no sockets yet.
two_captures 16
rc=0
rf_ctl reload >"$RF_TMP/reload.out" 2>"$RF_TMP/reload.err" || rc=$?
rf_expect "reload exit status" "$rc" 0
rf_expect "reload reply" "$(cat "$RF_TMP/reload.out")" "reload: ok (captures)"
rf_expect "state of a after the reload" \
    "$(rf_ctl_json status '.captures[0].state')" waiting

rf_link
rf_wait_until 10 "both captures running" rf_ctl_test status \
    '[.captures[] | select(.state == "running" and .running == 2)] |
     length == 2'
ga=$(rf_ctl_num status '.captures[0].fanout.group')
gb=$(rf_ctl_num status '.captures[1].fanout.group')
[ "$ga" != "$gb" ] || rf_fail "captures a and b share fanout group $ga"
rf_expect "group of a" "$ga" "$GA"
rf_expect "group of b" "$gb" "$GB"
rf_send -t udp -n "$N" -f 64 -r 5000 -s 64
rf_wait_until 10 "every frame counted by both captures" rf_ctl_test stats \
    "[.captures[] | select(.totals.packets == $N)] | length == 2"
rf_stop
for c in 0 1; do
	rf_expect "capture $c: packets" \
	    "$(rf_num ".captures[$c].totals.packets")" "$N"
	rf_expect "capture $c: kernel_packets" \
	    "$(rf_num ".captures[$c].totals.kernel_packets")" "$N"
	rf_expect "capture $c: kernel_drops" \
	    "$(rf_num ".captures[$c].totals.kernel_drops")" 0
done
echo "PASS"
