#!/bin/bash
# A plugin that finds a library of its own beside itself ($ORIGIN in its
# RUNPATH), replaced by rename as docs/plugins.md says, under traffic.  A
# worker started before the reload (here respawned after a kill) loads the
# build validated through the master's descriptor, /proc/self/fd/N, where
# $ORIGIN names /proc/self/fd and the library is not found: the worker
# fails, and its error says why and what to do, not only that the library
# (which is there, beside the plugin) is missing.  The reload then starts
# it on the new build; the frames sent meanwhile waited in its ring, and
# every frame is handled.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
# meson test points it at the build's libraries, where the plugin's would
# be found from anywhere.
unset LD_LIBRARY_PATH

K=500
PLUG=$RF_TMP/plug
mkdir "$PLUG"
cp "$PLUGIN_PATH_TEST/origindep.so" "$PLUGIN_PATH_TEST/librfdep.so" "$PLUG/"

rf_link
rf_config 1 hash "udp port 9" "plugin: origindep"
sed -i "s|^plugin_path: .*|plugin_path: [\"$PLUG\"]|" "$RF_CONF"
grep -qxF "plugin_path: [\"$PLUG\"]" "$RF_CONF" ||
    rf_fail "plugin_path not rewritten"

# handled N: the worker counted N frames, and so did the plugin.
handled()
{
	rf_ctl_test stats ".captures[0].workers[0] | .packets == $1 and
	    .plugins.origindep.frames == $1"
}

rf_start
rf_send -t udp -n "$K" -f 16 -r 20000 -s 64
rf_wait_until 10 "$K frames handled" handled "$K"

cp "$PLUG/origindep.so" "$PLUG/.origindep.so.tmp"
mv "$PLUG/.origindep.so.tmp" "$PLUG/origindep.so"
pid=$(rf_ctl_json workers '.workers[0].pid')
kill -9 "$pid"
rf_wait_until 20 "the respawned worker failed" \
    rf_ctl_test workers '.workers[0].state == "failed"'
want="worker test/0: setup failed: $RF_CONF:19:17: $PLUG/origindep.so: dlopen: librfdep.so: cannot open shared object file: No such file or directory (as /proc/self/fd/N, the build validated; \$ORIGIN is /proc/self/fd there)"
rf_expect "the worker's error" \
    "$(sed -n 's/^ringfan\[master\] error: \(worker test\/0: setup failed: .*\)/\1/p' \
    "$RF_ERR" | sed 's|/proc/self/fd/[0-9]*|/proc/self/fd/N|')" "$want"
echo "ok: the failed worker's error names the cause"

rf_send -t udp -n "$K" -f 16 -r 20000 -s 64
rf_expect "reload" "$(rf_ctl reload)" "reload: ok (pipeline)"
rf_wait_until 20 "the worker running again" \
    rf_ctl_test status '.captures[0].state == "running" and
    .captures[0].running == 1'
rf_wait_until 10 "the frames that waited handled" \
    rf_ctl_test stats ".captures[0].workers[0] |
    .packets + .quarantined == $((2 * K))"

rf_stop
rf_expect "kernel_packets" "$(rf_num '.captures[0].totals.kernel_packets')" \
    $((2 * K))
rf_expect "packets + quarantined" \
    "$(rf_num '.captures[0].totals | .packets + .quarantined')" $((2 * K))
rf_expect "kernel_drops" "$(rf_num '.captures[0].totals.kernel_drops')" 0
echo "ok: every frame handled: $((2 * K))"
