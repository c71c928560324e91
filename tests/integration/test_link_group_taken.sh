#!/bin/bash
# A capture reload while a capture waits for its interface: the retiring
# generation holds the configured fanout group then, so the capture claims
# it once the interface comes.  Should another program have taken that id
# meanwhile, the claim is refused and the capture's sockets join a group
# the kernel makes: ringfan then runs in another group than the one
# configured, and the log says why.  Every frame is counted.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
need_tools python3

N=300
rf_ns
# The other program's link: a pair of its own, CAP2 here.
CAP2=${RF_CAP}b GEN2=${RF_GEN}b
rf_veth "$CAP2" "$GEN2" || rf_fail "cannot create a veth pair"
[ ! -e "/sys/class/net/$RF_CAP" ] || rf_fail "$RF_CAP exists already"

rf_config 1 hash "udp port 9" "plugin: counter"
sed -i "s/^    interface: $RF_CAP\$/&\n    wait_for_interface: true/" "$RF_CONF"
rf_start
rf_expect "state at start" "$(rf_ctl_json status '.captures[0].state')" \
    waiting
# A capture change while waiting: the new generation has no socket yet.
sed -i 's/^      block_count: 32$/      block_count: 16/' "$RF_CONF"
rf_expect "reload reply" "$(rf_ctl reload)" "reload: ok (captures)"

# Another program takes the id: one packet socket on CAP2 in group
# RF_GROUP, mode lb.
rf_fanout_other "$CAP2" "$RF_GROUP" 0x1 "$RF_TMP/other.out"

rf_veth || rf_fail "cannot create the capture's veth pair"
rf_wait_until 10 "the capture running" rf_ctl_test status \
    '.captures[0].state == "running" and .captures[0].running == 1'
msg="warn: capture test: interface $RF_CAP, fanout group $RF_GROUP: already"
msg="$msg used by another program's sockets in this network namespace (or"
msg="$msg by the workers of a ringfan killed just now): give fanout.group a"
msg="$msg free id; the capture's sockets join a group the kernel makes until"
msg="$msg a reload"
grep -qF "$msg" "$RF_ERR" || rf_fail "no line saying why: $(cat "$RF_ERR")"
group=$(rf_ctl_num stats '.captures[0].fanout.group')
[ "$group" != "$RF_GROUP" ] ||
    rf_fail "the capture joined the other program's group $group"
rf_send -t udp -n "$N" -f 64 -r 20000 -s 64
rf_stop
rf_expect_all "$N"
rf_fanout_other_end
echo "PASS"
