#!/bin/bash
# The systemd unit's CapabilityBoundingSet= is all the master has as a
# service.  With `user:` set, its workers run as another uid, and the
# master must still signal them: the stall watch's SIGKILL (a stalled
# worker is replaced) and the stop.  ringfan runs here under that bounding
# set, read from config/ringfan.service.in, with no new privileges, as the
# unit runs it.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
command -v setpriv >/dev/null 2>&1 || rf_skip "no setpriv (util-linux)"
getent passwd nobody >/dev/null || rf_skip "no user nobody"
UNIT=$(dirname "${BASH_SOURCE[0]}")/../../config/ringfan.service.in

# CAP_NET_RAW CAP_KILL ... -> -all,+net_raw,+kill,...
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
[ -n "$caps" ] || rf_fail "$UNIT has no CapabilityBoundingSet="
bset=-all
for c in $caps; do
	c=${c#CAP_}
	bset=$bset,+${c,,}
done
echo "bounding set of the unit: $caps"

rf_link
rf_config 1 hash "udp port 9" "plugin: counter" \
    "{ plugin: spin, config: { len: 100 } }"
sed -i -e '1i user: nobody' -e '1i stall_timeout: 1s' "$RF_CONF"
chmod 0755 "$RF_TMP"
REAL=$RINGFAN
RINGFAN=$RF_TMP/ringfan-unit
cat >"$RINGFAN" <<SH
#!/bin/sh
exec setpriv --bounding-set=$bset --inh-caps=-all --no-new-privs \
    "$REAL" "\$@"
SH
chmod 0755 "$RINGFAN"
rf_start

# A frame of 100 bytes stalls the worker: the master kills and replaces it.
old=$(rf_ctl_json workers '.workers[0].pid')
rf_send -t udp -n 1 -f 1 -s 100
rf_wait_until 10 "the stalled worker killed and replaced" rf_ctl_test \
    workers ".workers[0].stalls == 1 and .workers[0].pid != $old and
    .workers[0].state == \"running\""
rf_alive "$old" && rf_fail "the stalled worker $old still runs"
echo "ok: stalled worker $old killed and replaced"

rf_stop
rf_expect "restarts" "$(rf_num '.captures[0].workers[0].restarts')" 1
grep -q "did not stop" "$RF_ERR" &&
    rf_fail "a worker needed SIGKILL at the stop: $(grep "did not stop" "$RF_ERR")"
echo "PASS"
