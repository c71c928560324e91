#!/bin/bash
# A plugin found in the first directory of plugin_path, removed from there
# while ringfan runs: the next reload finds the build of the same name in
# the next directory, loads it in the workers and says so, naming both
# files.  The frames before and after are all counted.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

K=1000
FIRST=$RF_TMP/first
mkdir "$FIRST"
cp "$PLUGIN_PATH_BUILD/counter/counter.so" "$FIRST/counter.so"
rf_link
rf_config 1 hash "udp port 9" "plugin: counter"
sed -i "s|^plugin_path: \[|plugin_path: [\"$FIRST\", |" "$RF_CONF"
rf_start
rf_expect "plugin file at start" "$(rf_ctl_json plugins \
    '.captures[0].plugins[0].path')" "$FIRST/counter.so"
rf_send -t udp -n "$K" -f 10
rf_wait_until 10 "the first frames" rf_ctl_test stats \
    ".captures[0].totals.packets == $K"

rm "$FIRST/counter.so"
rf_expect "reload" "$(rf_ctl_json reload .result)" pipeline
rf_expect "said" "$(grep -c "info: reload: capture test, step counter: \
plugin file $PLUGIN_PATH_BUILD/counter/counter.so (was $FIRST/counter.so)\$" \
    "$RF_ERR")" 1
rf_expect "plugin file after" "$(rf_ctl_json plugins \
    '.captures[0].plugins[0].path')" "$PLUGIN_PATH_BUILD/counter/counter.so"
# The worker that runs now has the build directory's file mapped, and not
# the removed one.
worker_maps()
{
	local pid

	pid=$(rf_ctl_json workers '.workers[0].pid')
	grep -q " $PLUGIN_PATH_BUILD/counter/counter.so\$" "/proc/$pid/maps" &&
	    ! grep -q " $FIRST/counter.so" "/proc/$pid/maps"
}
rf_wait_until 10 "the worker restarted on it" worker_maps
rf_send -t udp -n "$K" -f 10
rf_wait_until 10 "every frame counted" rf_ctl_test stats \
    ".captures[0].totals.packets == $((2 * K))"
rf_stop
