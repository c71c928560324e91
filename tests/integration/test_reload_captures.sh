#!/bin/bash
# A reload that changes the capture itself (worker count, ring, fanout mode)
# builds new sockets beside the old ones and hands over at a cut-over time:
# under steady traffic no frame is lost and none is counted twice, and the
# counters, plugin counters included, carry over.  Polled all along, the
# totals and the plugin counter never go back, during a hand-over either.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

K=30000

rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
rf_start

rf_send_bg -t udp -n "$K" -f 256 -r 5000 -s 64
rf_wait_flowing 2000

# The poller: a line of counts per `stats`, until the file `stop` is made.
(
	while [ ! -e "$RF_TMP/stop" ]; do
		rf_ctl --json stats 2>/dev/null | jq -r '.captures[0] |
		    [.totals.packets, .totals.kernel_packets, .totals.bytes,
		    ([.workers[].plugins.counter.udp // 0] | add)] | @tsv' ||
		    true
		sleep 0.02
	done
) >"$RF_TMP/polls" &
POLLER=$!
BG="$BG $POLLER"

# 1: three workers and another ring.  The configured group is still held by
# the old sockets, so the new ones get another from the kernel.
sed -i "s/^    workers: 2$/    workers: 3/" "$RF_CONF"
rf_set_ring 128KiB 16 20ms
rf_expect "reload 1" "$(rf_ctl_json reload .result)" captures
rf_wait_until 10 "three workers running, the old ones gone" rf_ctl_test \
    workers '(.workers | length) == 3 and all(.workers[]; .state == "running")'
group=$(rf_ctl_num status '.captures[0].fanout.group')
[ "$group" != "$RF_GROUP" ] ||
    rf_fail "the new sockets joined the old group $RF_GROUP"
echo "ok: new generation in group $group"
# The id the kernel made is claimed as a configured one is: another
# ringfan configured with it is refused, naming this one.
LOCK=$(rf_lock_of "$group")
rf_expect "lock of group $group holds the master's pid" "$(cat "$LOCK")" \
    "$RF_PID"
rf_second_refused "$group"
rf_wait_until 10 "the old generation retired" \
    grep -q "reload: captures handed over" "$RF_ERR"

# 2: load balancing, and no reassembly; the configured group is free again.
sed -i "s/^      mode: hash$/      mode: lb\n      defrag: false/" "$RF_CONF"
rf_expect "reload 2" "$(rf_ctl_json reload .result)" captures
rf_wait_until 10 "the second hand-over" eval \
    '[ "$(grep -c "reload: captures handed over" "$RF_ERR")" -eq 2 ]'
rf_expect "group after reload 2" \
    "$(rf_ctl_num status '.captures[0].fanout.group')" "$RF_GROUP"
rf_wait_until 10 "the lock of group $group let go with it" test ! -e "$LOCK"
rf_alive "$RF_SEND_PID" || rf_fail "the traffic ended before the reloads did"
touch "$RF_TMP/stop"
wait "$POLLER"
rf_bg_forget "$POLLER"
n=$(wc -l <"$RF_TMP/polls")
[ "$n" -ge 20 ] || rf_fail "only $n polls of stats"
awk -F'\t' '
	{ for (i = 1; i <= 4; i++) {
		if (NR > 1 && $i < last[i]) {
			printf "poll %d: column %d went from %s to %s\n", NR, i,
			    last[i], $i
			bad = 1
		}
		last[i] = $i
	} }
	END { exit bad }' "$RF_TMP/polls" ||
    rf_fail "a count went back during the hand-overs"
echo "ok: $n polls, no count went back"
rf_send_wait
rf_stop

# The first hand-over, where both generations reassemble fragments
# (defrag, the default), says which datagrams it cannot see
# (docs/configuration.md); the second, to defrag: false, has none to say.
gap="reload: capture test reassembles fragments \\(fanout.defrag\\): the"
gap="$gap datagrams sent in fragments that complete in the [0-9]+ ms from"
gap="$gap its new sockets to the cut-over reach the new sockets alone, whose"
gap="$gap workers leave them to the old: not seen, not counted \\(defrag: false"
gap="$gap has no such gap\\)"
rf_expect "the defrag gap, said" "$(grep -Ec "warn: $gap\$" "$RF_ERR")" 1
rf_expect "fanout.mode" "$(rf_json '.captures[0].fanout.mode')" lb
rf_expect "workers" "$(rf_json '.captures[0].workers | length')" 3
rf_expect_all "$K"
rf_expect "sum of worker packets" "$(rf_sum .packets)" "$K"
rf_expect "sum of counter.ethernet" "$(rf_sum .plugins.counter.ethernet)" "$K"
for w in 0 1 2; do
	p=$(rf_num ".captures[0].workers[$w].packets")
	kp=$(rf_num ".captures[0].workers[$w].kernel_packets")
	kd=$(rf_num ".captures[0].workers[$w].kernel_drops")
	rf_expect "worker $w kernel_packets" "$kp" $((p + kd))
done
echo "PASS"
