#!/bin/bash
# Linux before 6.2 takes PACKET_FANOUT_FLAG_IGNORE_OUTGOING and ignores
# it: a capture on loopback sees each packet twice there, and one with
# fanout.ignore_outgoing the frames its host sends.  ringfan cannot make
# such a kernel honour the flag, so it must say so at the start, once per
# capture concerned, and not for a capture that does not ask for it.
# ringfan runs here under the UNAME26 personality (setarch --uname-2.6),
# whose uname() reports a 2.6 release, as an old kernel would.
#
# Everything happens inside the test's own network namespace: its
# loopback and a veth pair made in it.
set -eu
. "$(dirname "$0")/lib.sh"

need_tools setarch
setarch "$(uname -m)" --uname-2.6 true 2>/dev/null ||
    rf_skip "setarch --uname-2.6 refused"
rf_ns
in_ns ip link set lo up
in_ns ip link add "$RF_CAP" type veth peer name "$RF_GEN" 2>/dev/null ||
    rf_skip "cannot create a veth pair"
in_ns ip link set "$RF_CAP" up
in_ns ip link set "$RF_GEN" up

# capture NAME INTERFACE GROUP [FANOUT...]: one worker, the counter.
capture()
{
	cat <<-YAML
	  - name: $1
	    interface: $2
	    workers: 1
	    fanout: { group: $3$4 }
	    ring: { block_size: 128KiB, block_count: 2 }
	    pipeline:
	      - plugin: counter
	YAML
}
{
	rf_config_head
	capture lo lo "$RF_GROUP" ""
	capture skip "$RF_CAP" "$((RF_GROUP + 1))" ", ignore_outgoing: true"
	capture both "$RF_GEN" "$((RF_GROUP + 2))" ""
} >"$RF_CONF"

old=$(setarch "$(uname -m)" --uname-2.6 uname -r)
cat >"$RF_TMP/ringfan26" <<SH
#!/bin/sh
exec setarch "$(uname -m)" --uname-2.6 "$RINGFAN" "\$@"
SH
chmod +x "$RF_TMP/ringfan26"
RINGFAN=$RF_TMP/ringfan26 RF_IN_NS=1 RF_WORKERS=3
rf_start
rf_stop

w="does not keep the frames this host sends out of a fanout group (6.2 does)"
rf_expect "warnings" "$(grep -c "$w" "$RF_ERR" || true)" 2
grep -qF "warn: capture lo: Linux $old $w: on loopback device lo each packet is captured twice, as sent and as received" "$RF_ERR" ||
    rf_fail "no loopback warning: $(grep "$w" "$RF_ERR")"
grep -qF "warn: capture skip: Linux $old $w: ignore_outgoing has no effect, those sent on $RF_CAP are captured too" "$RF_ERR" ||
    rf_fail "no ignore_outgoing warning: $(grep "$w" "$RF_ERR")"
echo "PASS"
