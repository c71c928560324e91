#!/bin/bash
# Two captures with defrag on one interface, one of them by its
# alternative name: the same interface, refused as two by its name are
# (ringfan -t), and accepted once one of them has defrag: false; a reload
# from the name to the alternative name warns of the hand-over's defrag gap.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

ALT=rfa$RF_ID
rf_link
ip link property add dev "$RF_CAP" altname "$ALT" 2>/dev/null ||
    rf_skip "no alternative interface names (Linux 5.5)"
write_conf()
{
	{
		rf_config_head
		cat <<-YAML
		  - name: a
		    interface: $RF_CAP
		    workers: 1
		  - name: b
		    interface: $ALT
		    workers: 1
		YAML
		[ -z "$1" ] || echo "    fanout: { defrag: false }"
	} >"$RF_CONF"
}
write_conf ""
rc=0
"$RINGFAN" -c "$RF_CONF" -t >"$RF_TMP/t.out" 2>&1 || rc=$?
rf_expect "exit status" "$rc" 1
rf_expect "message" "$(cat "$RF_TMP/t.out")" "ringfan: $RF_CONF:9:11: captures \"a\" \
(line 6) on $RF_CAP and \"b\" on $ALT, one interface, both reassemble IP \
fragments (fanout.defrag, on by default): the kernel gives each datagram \
sent in fragments to one of them only; set fanout.defrag: false in all but one"
write_conf off
"$RINGFAN" -c "$RF_CONF" -t >"$RF_TMP/t.out" 2>&1 ||
    rf_fail "refused with defrag off in one: $(cat "$RF_TMP/t.out")"

# A reload from the interface's name to its alternative name keeps defrag
# on one interface: the hand-over has the gap of two defrag groups on it,
# and says so as it does with the name kept (test_reload_captures.sh).
rf_config 1 hash "" "plugin: counter"
rf_start
sed -i "s/^    interface: $RF_CAP\$/    interface: $ALT/" "$RF_CONF"
rf_expect "reload" "$(rf_ctl_json reload .result)" captures
rf_wait_until 10 "the hand-over" grep -q "reload: captures handed over" \
    "$RF_ERR"
rf_expect "the defrag gap, said" "$(grep -c "warn: reload: capture test \
reassembles fragments (fanout.defrag)" "$RF_ERR")" 1
rf_stop
