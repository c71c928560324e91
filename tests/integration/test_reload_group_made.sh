#!/bin/bash
# A capture reload gives a capture whose configured fanout id the old
# sockets still hold an id the kernel makes (the next it hands out, as
# the kernel numbers them in turn).  A capture the same reload adds,
# configured with that very id, must not take the first one's group (nor
# be refused by its lock): it gets an id the kernel makes too, the reload
# succeeds, and each capture counts its own frames.  The kernel's next id
# is learnt just before the reload (a throwaway socket of a group it
# makes), and the reload tried again, up to 5 times, when a program
# elsewhere took that id in between.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
need_tools python3

rf_link
rf_link2
RF_WORKERS=2

# conf RING [GROUP_B]: capture a on CAP (its ring's block_size RING), and
# with GROUP_B capture b on CAP2 in fanout group GROUP_B.
conf()
{
	{
		rf_config_head
		cat <<-YAML
		  - name: a
		    interface: $RF_CAP
		    workers: 2
		    bpf: "udp port 9"
		    fanout: { mode: hash, group: $RF_GROUP }
		    ring: { block_size: $1, block_count: 16, block_timeout: 10ms }
		    pipeline: [{ plugin: counter }]
		YAML
		[ -z "${2-}" ] || cat <<-YAML
		  - name: b
		    interface: $CAP2
		    workers: 1
		    bpf: "udp port 9"
		    fanout: { mode: hash, group: $2 }
		    pipeline: [{ plugin: counter }]
		YAML
	} >"$RF_CONF"
}

# The id the kernel hands out next: one past the one it makes now for a
# throwaway socket (closed at once, which frees it).
next_id()
{
	python3 - <<-'PY'
	import socket, struct
	s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x88b5))
	# PACKET_FANOUT, mode hash with PACKET_FANOUT_FLAG_UNIQUEID (0x2000)
	s.setsockopt(263, 18, struct.pack('I', 0 | (0x2000 << 16)))
	v = struct.unpack('I', s.getsockopt(263, 18, 4))[0]
	print(((v & 0xffff) + 1) & 0xffff)
	PY
}

conf 64KiB
rf_start
ring=64KiB
for try in 1 2 3 4 5; do
	[ "$ring" = 64KiB ] && ring=128KiB || ring=64KiB
	want=$(next_id)
	conf "$ring" "$want"
	rf_expect "try $try: reload" "$(rf_ctl_json reload .result)" captures
	rf_wait_until 10 "try $try: the hand-over" eval \
	    '[ "$(grep -c "reload: captures handed over" "$RF_ERR")" -eq $try ]'
	a=$(rf_ctl_num status '.captures[] | select(.name == "a") | .fanout.group')
	[ "$a" = "$want" ] && break
	echo "try $try: capture a got group $a, not $want (another program" \
	    "took it): again without b"
	conf "$ring"
	rf_expect "try $try: reload without b" \
	    "$(rf_ctl_json reload .result)" captures
	rf_wait_until 10 "try $try: b gone" rf_ctl_test status \
	    '(.captures | length) == 1 and .captures[0].state == "running"'
done
[ "$a" = "$want" ] ||
    rf_fail "capture a never got the kernel's next id in 5 tries"
echo "ok: capture a in group $a, the id the kernel made, b configured with it"
b=$(rf_ctl_num status '.captures[] | select(.name == "b") | .fanout.group')
[ "$b" != "$a" ] || rf_fail "capture b joined capture a's group $a"
echo "ok: capture b in group $b"
rf_wait_until 10 "both captures running" rf_ctl_test status \
    'all(.captures[]; .state == "running") and
    ([.captures[].running] | add) == 3'
if grep -q "already used" "$RF_ERR"; then
	rf_fail "a claim refused: $(grep "already used" "$RF_ERR")"
fi

rf_send -t udp -n 300 -f 16
ip netns exec "$RF_NS" "$RFSEND" -i "$GEN2" -q -t udp -n 200 -f 16 ||
    rf_fail "rfsend on $GEN2 failed"
rf_wait_until 10 "a counted 300, b 200" rf_ctl_test stats \
    '([.captures[] | select(.name == "a") | .totals.packets] == [300]) and
    ([.captures[] | select(.name == "b") | .totals.packets] == [200])'
rf_stop
echo PASS
