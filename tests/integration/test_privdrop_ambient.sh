#!/bin/bash
# A master that is not root but holds the capabilities a sensor needs as
# ambient ones (systemd's User= with AmbientCapabilities=, a container's
# non-root user with --cap-add): packet sockets (CAP_NET_RAW) and changing
# to `user` (CAP_SETUID, CAP_SETGID).  Changing uid from one that is not
# root keeps a process's capabilities, so each worker must give them up
# itself: it runs as `user` with none left, and captures exactly.  The
# fanout lock directory, root's /run/ringfan, is one of the master's own
# here (as RuntimeDirectory= makes it), in a mount namespace of the test.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
need_tools setpriv unshare
getent passwd nobody >/dev/null || rf_skip "no user nobody"
getent passwd daemon >/dev/null || rf_skip "no user daemon"
master=$(id -u nobody)
uid=$(id -u daemon)
gid=$(id -g daemon)
unshare -m --propagation private true 2>/dev/null ||
    rf_skip "no mount namespace"

K=1000
F=64

rf_link
rf_config 2 hash "udp port 9" "plugin: counter" \
    "{ plugin: flowtable, config: { output: \"$RF_TMP/flows.json\" } }"
sed -i '1i user: daemon' "$RF_CONF"
chmod 0777 "$RF_TMP"
chmod 0644 "$RF_CONF"
REAL=$RINGFAN
RINGFAN=$RF_TMP/ringfan-ambient
caps=-all,+net_raw,+setuid,+setgid
cat >"$RINGFAN" <<SH
#!/bin/sh
exec unshare -m --propagation private sh -c 'mount -t tmpfs -o mode=0755 \
    rfrun /run && install -d -o nobody -m 0755 /run/ringfan &&
    exec setpriv --reuid=$master --regid=$(id -g nobody) --clear-groups \
    --inh-caps=$caps --ambient-caps=$caps "$REAL" "\$@"' sh "\$@"
SH
chmod 0755 "$RINGFAN"

rc=0
"$RINGFAN" -c "$RF_CONF" -t 2>"$RF_TMP/check.err" || rc=$?
rf_expect "-t ($(cat "$RF_TMP/check.err"))" "$rc" 0
rf_start
rf_expect "master Uid" "$(grep '^Uid:' "/proc/$RF_PID/status")" \
    "$(printf 'Uid:\t%s\t%s\t%s\t%s' "$master" "$master" "$master" "$master")"
rf_ctl_json workers . >"$RF_TMP/workers.json"
for w in 0 1; do
	pid=$(jq -r ".workers[$w].pid" "$RF_TMP/workers.json")
	st=/proc/$pid/status
	rf_expect "worker $w Uid" "$(grep '^Uid:' "$st")" \
	    "$(printf 'Uid:\t%s\t%s\t%s\t%s' "$uid" "$uid" "$uid" "$uid")"
	rf_expect "worker $w Gid" "$(grep '^Gid:' "$st")" \
	    "$(printf 'Gid:\t%s\t%s\t%s\t%s' "$gid" "$gid" "$gid" "$gid")"
	for set in CapInh CapPrm CapEff CapAmb; do
		rf_expect "worker $w $set" "$(grep "^$set:" "$st")" \
		    "$(printf '%s:\t0000000000000000' "$set")"
	done
	rf_expect "worker $w NoNewPrivs" "$(grep '^NoNewPrivs:' "$st")" \
	    "$(printf 'NoNewPrivs:\t1')"
done

rf_send -t udp -n "$K" -f "$F" -s 64 -r 20000
rf_stop
rf_expect "totals.packets" "$(rf_num '.captures[0].totals.packets')" "$K"
rf_expect "totals.kernel_packets" \
    "$(rf_num '.captures[0].totals.kernel_packets')" "$K"
rf_expect "sum of counter.udp" "$(rf_sum .plugins.counter.udp)" "$K"
rf_expect "flow records" "$(wc -l <"$RF_TMP/flows.json")" "$F"
rf_expect "frames in the flow records" \
    "$(jq -s 'map(.fwd.packets + .rev.packets) | add' "$RF_TMP/flows.json")" "$K"
echo "PASS"
