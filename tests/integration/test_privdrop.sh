#!/bin/bash
# `user:` in the configuration: workers give up root for good after mapping
# their ring (uids, gids, groups, capabilities), the master keeps it, and
# capture goes on exactly.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
getent passwd nobody >/dev/null || rf_skip "no user nobody"
uid=$(id -u nobody)
gid=$(id -g nobody)

K=1000

rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
sed -i '1i user: nobody' "$RF_CONF"
rf_start

rf_expect "master Uid" "$(grep '^Uid:' "/proc/$RF_PID/status")" \
    "$(printf 'Uid:\t0\t0\t0\t0')"
rf_ctl_json workers . >"$RF_TMP/workers.json"
rf_expect "workers" "$(jq '.workers | length' "$RF_TMP/workers.json")" 2
for w in 0 1; do
	pid=$(jq -r ".workers[$w].pid" "$RF_TMP/workers.json")
	st=/proc/$pid/status
	[ "$(awk '{ print $4 }' "/proc/$pid/stat")" = "$RF_PID" ] ||
	    rf_fail "worker $w's pid $pid is not a child of the master"
	rf_expect "worker $w Uid" "$(grep '^Uid:' "$st")" \
	    "$(printf 'Uid:\t%s\t%s\t%s\t%s' "$uid" "$uid" "$uid" "$uid")"
	rf_expect "worker $w Gid" "$(grep '^Gid:' "$st")" \
	    "$(printf 'Gid:\t%s\t%s\t%s\t%s' "$gid" "$gid" "$gid" "$gid")"
	rf_expect "worker $w Groups" \
	    "$(grep '^Groups:' "$st" | sed 's/[[:space:]]*$//')" \
	    "$(printf 'Groups:\t%s' "$gid")"
	rf_expect "worker $w CapEff" "$(grep '^CapEff:' "$st")" \
	    "$(printf 'CapEff:\t0000000000000000')"
	rf_expect "worker $w CapPrm" "$(grep '^CapPrm:' "$st")" \
	    "$(printf 'CapPrm:\t0000000000000000')"
	rf_expect "worker $w NoNewPrivs" "$(grep '^NoNewPrivs:' "$st")" \
	    "$(printf 'NoNewPrivs:\t1')"
done

rf_send -t udp -n "$K" -f 64 -s 64 -r 20000
rf_stop
rf_expect "totals.packets" "$(rf_num '.captures[0].totals.packets')" "$K"
rf_expect "totals.kernel_packets" \
    "$(rf_num '.captures[0].totals.kernel_packets')" "$K"
rf_expect "totals.kernel_drops" "$(rf_num '.captures[0].totals.kernel_drops')" 0
rf_expect "sum of counter.ethernet" "$(rf_sum .plugins.counter.ethernet)" "$K"
rf_expect "sum of restarts" "$(rf_sum .restarts)" 0

# The privilege drop clears the parent-death signal: it must be set after
# it, or workers running as `user` outlive a master killed with -9.
rf_start
pids=$(rf_ctl_json workers '[.workers[].pid] | join(" ")')
kill -KILL "$RF_PID"
wait "$RF_PID" 2>/dev/null || true
RF_PID=
for pid in $pids; do
	for ((i = 0; i < 30; i++)); do
		rf_alive "$pid" || break
		sleep 0.1
	done
	if rf_alive "$pid"; then
		kill -KILL "$pid"
		rf_fail "worker $pid outlived its master's kill -9"
	fi
done
echo "ok: workers $pids died with their master"
echo "PASS"
