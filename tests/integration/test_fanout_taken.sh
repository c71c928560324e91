#!/bin/bash
# A fanout group id that another program's socket holds.  With another
# mode (lb) the kernel refuses the join with EINVAL alone, and ringfan said
# only "setsockopt(PACKET_FANOUT, hash group N): Invalid argument"; with
# ringfan's own mode, flags and interface (hash with defrag) the kernel
# lets ringfan's sockets join, and the two programs split the frames
# silently.  Either way ringfan looks before it joins: the start fails with
# exit status 2 and a message that says the id is taken and what to do, a
# reload to that id is refused and leaves the capture as it was, counting
# on, and the other program sees every frame.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
need_tools python3

K=200
G=$((RF_GROUP + 1))
msg="capture test: interface RF_CAP, fanout group $G: already used by"
msg="$msg another program's sockets in this network namespace (or by the"
msg="$msg workers of a ringfan killed just now): give fanout.group a free id"

# taken WHAT TYPE_FLAGS: another program holds group G with PACKET_FANOUT's
# type and flags TYPE_FLAGS, on the capture's interface.
taken()
{
	local what=$1 other=$RF_TMP/other-$1 rc

	rf_fanout_other "$RF_CAP" "$G" "$2" "$other"

	rf_config 1 hash "udp port 9" "plugin: counter"
	sed -i "s/group: $RF_GROUP/group: $G/" "$RF_CONF"
	rc=0
	timeout --foreground 20 "$RINGFAN" -c "$RF_CONF" >/dev/null 2>"$RF_TMP/start.err" ||
	    rc=$?
	rf_expect "$what: start: exit status" "$rc" 2
	grep -qF "error: ${msg/RF_CAP/$RF_CAP}" "$RF_TMP/start.err" ||
	    rf_fail "$what: start: $(grep -v info "$RF_TMP/start.err")"

	sed -i "s/group: $G/group: $RF_GROUP/" "$RF_CONF"
	rf_start
	rf_send -t udp -n "$K" -f 10 -s 64 -r 20000
	sed -i "s/group: $RF_GROUP/group: $G/" "$RF_CONF"
	rc=0
	rf_ctl reload >/dev/null 2>"$RF_TMP/reload.err" || rc=$?
	rf_expect "$what: reload: exit status" "$rc" 1
	rf_expect "$what: reload: error" "$(cat "$RF_TMP/reload.err")" \
	    "ringfanctl: ${msg/RF_CAP/$RF_CAP}"
	rf_expect "$what: group after the reload" \
	    "$(rf_ctl_json stats '.captures[0].fanout.group')" "$RF_GROUP"
	rf_send -t udp -n "$K" -f 10 -s 64 -r 20000
	rf_stop
	rf_expect_all $((2 * K))
	rf_fanout_other_end
	rf_expect "$what: frames the other program saw" \
	    "$(awk '/^frames/ { print $2 }' "$other")" $((2 * K))
}

rf_link
taken lb 0x1
taken hash-defrag 0x8000
echo "PASS"
