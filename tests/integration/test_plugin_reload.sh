#!/bin/bash
# Reloads that concern plugins, under traffic on a private link.
# (a) An unknown plugin option, and a plugin whose trial open fails, are
#     refused with the exact message; nothing changes: same workers, all
#     running, the error in status.  A valid new option set then restarts
#     both workers and not a frame is lost or seen twice.
# (b) A plugin's .so replaced by another build (a new inode) counts as a
#     pipeline change although the YAML is the same: the workers restart on
#     the new build, and `plugins` and the stats show it.
# (c) A new build whose open fails in the workers (here another plugin
#     under the name, asked to fail) rolls the reload back onto the build
#     validated before, which the master holds, not the file now at the
#     path; so does a worker respawned after a kill, until a reload.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

# all_running PIDS: both workers running, the capture too, and the worker
# pids other than PIDS (comma-separated) when given.
all_running()
{
	rf_ctl_test workers "[.workers[].state] == [\"running\", \"running\"]
	    and ([.workers[].pid | tostring] - (\"$1\" | split(\",\")) |
	    length) == 2" &&
	    rf_ctl_test status '.captures[0].state == "running" and
	    .captures[0].running == 2'
}

# refused WHAT MESSAGE: `ringfanctl reload` fails with exactly MESSAGE and
# leaves everything as it was ($pids, the plugins and versions in $plugins).
refused()
{
	rf_reload_fails "$1" "$2" "$(sed 's/ [^,]*//g' <<<"$plugins")"
	rf_expect "$1: status.reloads" "$(rf_ctl_num status .reloads)" \
	    "$reloads"
	rf_expect "$1: worker pids" "$(rf_pids)" "$pids"
	rf_expect "$1: worker restarts" \
	    "$(rf_ctl_json workers '[.workers[].restarts] | add')" 0
	rf_expect "$1: plugins" "$(rf_ctl_json plugins \
	    '[.captures[0].plugins[] | .name + " " + .version] | join(",")')" \
	    "$plugins"
}

# ctl_stop: `ringfanctl --json stop`, its reply JSON, and ringfan's exit
# status 0 with exactly one JSON document, the final stats, on its stdout.
ctl_stop()
{
	sleep "${RF_SETTLE:-0.5}"
	rf_ctl --json stop >"$RF_TMP/stop.json" ||
	    rf_fail "ringfanctl stop failed"
	rf_expect "stop reply" "$(jq -c . "$RF_TMP/stop.json")" '{"ok":true}'
	rf_wait_exit 15 "after stop"
	rf_expect "JSON documents on ringfan's stdout" \
	    "$(jq -s length "$RF_OUT")" 1
	jq . "$RF_OUT" >"$RF_STATS"
}

# at_value FILE KEY VALUE: LINE:COLUMN of VALUE in the first "KEY: VALUE"
# of FILE (columns from 1).
at_value()
{
	awk -v k="$2: " -v v="$3" '{ i = index($0, k v) }
	    i > 0 { print NR ":" i + length(k); exit }' "$1"
}

# per_worker_accounting: kernel_packets == packets + kernel_drops, each.
per_worker_accounting()
{
	local w kp p kd

	for w in 0 1; do
		kp=$(rf_num ".captures[0].workers[$w].kernel_packets")
		p=$(rf_num ".captures[0].workers[$w].packets")
		kd=$(rf_num ".captures[0].workers[$w].kernel_drops")
		rf_expect "worker $w: kernel_packets = packets + kernel_drops" \
		    "$kp" "$((p + kd))"
	done
}

rf_link

# --- (a) Refused reloads, then a good one, under 5 s of traffic.
K=20000
opts='{ plugin: options, config: { count: 3 } }'
rf_config 2 hash "udp port 9" "plugin: counter" "$opts"
cp "$RF_CONF" "$RF_TMP/good.yaml"
rf_start
pids=$(rf_pids)
plugins="counter $(rf_ctl_json plugins '.captures[0].plugins[0].version'),options 1.0"
reloads=0
rf_send_bg -t udp -n "$K" -f 256 -r 4000 -s 64
rf_wait_flowing 1000

# An unknown option, placed at the option's value.
sed -i 's/config: { count: 3 }/config: { count: 3, cuont: 4 }/' "$RF_CONF"
at=$(at_value "$RF_CONF" cuont 4)
[ -n "$at" ] || rf_fail "could not put the typo in $RF_CONF"
refused "unknown option" "$RF_CONF:$at: plugin options: unknown option \"cuont\""
rc=0
rf_ctl --json reload >"$RF_TMP/reload.out" 2>"$RF_TMP/reload.err" || rc=$?
rf_expect "--json reload: exit status" "$rc" 1
rf_expect "--json reload: stderr" "$(cat "$RF_TMP/reload.err")" \
    "ringfanctl: $RF_CONF:$at: plugin options: unknown option \"cuont\""
rf_expect "--json reload: stdout" "$(cat "$RF_TMP/reload.out")" ""

# A plugin whose trial open fails, the options right again.
cp "$RF_TMP/good.yaml" "$RF_CONF"
echo "      - plugin: openfail" >>"$RF_CONF"
refused "openfail" \
    "plugin openfail: cannot open /nonexistent: No such file or directory"

# A bad value.
cp "$RF_TMP/good.yaml" "$RF_CONF"
sed -i 's/config: { count: 3 }/config: { size: 2MB }/' "$RF_CONF"
at=$(at_value "$RF_CONF" size 2MB)
refused "bad value" "$RF_CONF:$at: plugin options: option size: not a size \"2MB\" (a number and optionally B, KiB, MiB, GiB or TiB)"
rf_alive "$RF_SEND_PID" || rf_fail "the traffic ended before the reloads"

# Another valid option set: the workers restart one at a time.
cp "$RF_TMP/good.yaml" "$RF_CONF"
sed -i 's/config: { count: 3 }/config: { size: 2MiB, label: abcd }/' \
    "$RF_CONF"
"$RINGFAN" -c "$RF_CONF" -t 2>/dev/null || rf_fail "the new file is invalid"
rf_ctl --json reload >"$RF_TMP/reload.json" 2>"$RF_TMP/reload.err" ||
    rf_fail "ringfanctl reload failed: $(cat "$RF_TMP/reload.err")"
rf_expect "reload reply" "$(jq -c . "$RF_TMP/reload.json")" \
    '{"ok":true,"result":"pipeline"}'
rf_wait_until 15 "two new workers running" all_running "$pids"
rf_alive "$RF_SEND_PID" || rf_fail "the traffic ended before the restarts did"
echo "ok: both workers restarted ($pids -> $(rf_pids))"
rf_expect "status.reloads" "$(rf_ctl_num status .reloads)" 1
rf_expect "status.last_reload_error" \
    "$(rf_ctl_json status .last_reload_error)" null
rf_send_wait
ctl_stop

rf_expect_all "$K"
per_worker_accounting
rf_expect "sum of packets" "$(rf_sum .packets)" "$K"
rf_expect "sum of restarts" "$(rf_sum .restarts)" 0
rf_expect "sum of counter.ethernet" "$(rf_sum .plugins.counter.ethernet)" "$K"
for w in 0 1; do
	rf_expect "worker $w: options (count, size, label_len)" "$(rf_json \
	    ".captures[0].workers[$w].plugins.options |
	    [.count, .size, .label_len] | map(tostring) | join(\",\")")" \
	    7,2097152,4
done

# --- (b) The same YAML, another build of a plugin.
K1=1000
K2=1500
plug=$RF_TMP/plugins
mkdir "$plug"
cp "$PLUGIN_PATH_TEST/loadprobe_a.so" "$plug/loadprobe.so"
rf_config 2 hash "udp port 9" "plugin: counter" "plugin: loadprobe"
sed -i "s|^plugin_path: \[|plugin_path: [\"$plug\", |" "$RF_CONF"
grep -q "^plugin_path: \[\"$plug\", " "$RF_CONF" ||
    rf_fail "could not add $plug to plugin_path"
cp "$RF_CONF" "$RF_TMP/probe.yaml"
rf_start
pids=$(rf_pids)
rf_expect "loadprobe before" "$(rf_ctl_json plugins \
    '.captures[0].plugins[1] | [.name, .version, .path] | join(" ")')" \
    "loadprobe a $plug/loadprobe.so"
rf_expect "reload of the same build" "$(rf_ctl_json reload .result)" \
    unchanged
rf_send -t udp -n "$K1" -f 64 -s 64 -r 20000
rf_wait_until 5 "$K1 frames handled" \
    rf_ctl_test stats ".captures[0].totals.packets == $K1"

ino=$(stat -c %i "$plug/loadprobe.so")
cp "$PLUGIN_PATH_TEST/loadprobe_b.so" "$plug/.loadprobe.so.new"
mv -f "$plug/.loadprobe.so.new" "$plug/loadprobe.so"
[ "$(stat -c %i "$plug/loadprobe.so")" != "$ino" ] ||
    rf_fail "the replaced loadprobe.so kept its inode"
cmp -s "$RF_CONF" "$RF_TMP/probe.yaml" || rf_fail "the YAML changed"
rf_ctl --json reload >"$RF_TMP/reload.json" 2>"$RF_TMP/reload.err" ||
    rf_fail "ringfanctl reload failed: $(cat "$RF_TMP/reload.err")"
rf_expect "reload reply after the new build" \
    "$(jq -c . "$RF_TMP/reload.json")" '{"ok":true,"result":"pipeline"}'
rf_wait_until 15 "two new workers running" all_running "$pids"
echo "ok: both workers restarted ($pids -> $(rf_pids))"
rf_expect "loadprobe after" "$(rf_ctl_json plugins \
    '.captures[0].plugins[1] | [.name, .version, .path] | join(" ")')" \
    "loadprobe b $plug/loadprobe.so"
rf_expect "a second reload" "$(rf_ctl_json reload .result)" unchanged
rf_send -t udp -n "$K2" -f 64 -s 64 -r 20000
rf_wait_until 5 "$((K1 + K2)) frames handled" \
    rf_ctl_test stats ".captures[0].totals.packets == $((K1 + K2))"
rf_expect "live loadprobe.frames_b" "$(rf_ctl_json stats \
    '[.captures[0].workers[].plugins.loadprobe.frames_b] | add')" "$K2"
rf_stop

rf_expect "totals.packets" "$(rf_num '.captures[0].totals.packets')" \
    "$((K1 + K2))"
rf_expect "totals.kernel_drops" "$(rf_num '.captures[0].totals.kernel_drops')" 0
per_worker_accounting
rf_expect "sum of counter.ethernet" "$(rf_sum .plugins.counter.ethernet)" \
    "$((K1 + K2))"
rf_expect "sum of loadprobe.frames" "$(rf_sum .plugins.loadprobe.frames)" \
    "$((K1 + K2))"
rf_expect "sum of loadprobe.frames_a" "$(rf_sum .plugins.loadprobe.frames_a)" "$K1"
rf_expect "sum of loadprobe.frames_b" "$(rf_sum .plugins.loadprobe.frames_b)" "$K2"
rf_expect "sum of restarts" "$(rf_sum .restarts)" 0

# --- (c) A broken new build: the previous one runs on.
cp "$PLUGIN_PATH_TEST/loadprobe_a.so" "$plug/.loadprobe.so.new"
mv -f "$plug/.loadprobe.so.new" "$plug/loadprobe.so"
cp "$RF_TMP/probe.yaml" "$RF_CONF"
sed -i 's/^    workers: 2$/    workers: 1/' "$RF_CONF"
RF_WORKERS=1
rf_start
rf_send -t udp -n "$K1" -f 64 -s 64 -r 20000
rf_wait_until 5 "$K1 frames handled" \
    rf_ctl_test stats ".captures[0].totals.packets == $K1"
cp "$PLUGIN_PATH_TEST/ctxprobe.so" "$plug/.loadprobe.so.new"
mv -f "$plug/.loadprobe.so.new" "$plug/loadprobe.so"
sed -i 's/- plugin: loadprobe$/- { plugin: loadprobe, config: { open: fail } }/' \
    "$RF_CONF"
rf_reload_fails "the broken build" "reload: worker test/0: plugin loadprobe: open says fail; every worker is back on the previous pipeline" \
    counter,loadprobe
rf_expect "the build running" "$(rf_ctl_json plugins \
    '.captures[0].plugins[1] | [.name, .version] | join(" ")')" "loadprobe a"
pid=$(rf_ctl_json workers '.workers[0].pid')
kill -9 "$pid"
rf_wait_until 5 "the worker respawned" rf_ctl_test workers \
    ".workers[0].state == \"running\" and .workers[0].pid != $pid"
rf_send -t udp -n "$K2" -f 64 -s 64 -r 20000
rf_stop
rf_expect "totals.packets" "$(rf_num '.captures[0].totals.packets')" \
    "$((K1 + K2))"
rf_expect "loadprobe.frames_a, the previous build's" \
    "$(rf_num '.captures[0].workers[0].plugins.loadprobe.frames_a')" \
    "$((K1 + K2))"
rf_expect "workers that ran another file than the one validated" \
    "$(grep -c "changed since it was validated" "$RF_ERR" || true)" 0
# The rolled-back worker and its respawn, each through the held file.
rf_expect "workers that ran the validated build of a replaced file" \
    "$(grep -c "warn: plugin loadprobe: $plug/loadprobe.so was replaced since it was validated: running the build validated, as /proc/self/fd/[0-9]*, until a reload\$" \
    "$RF_ERR" || true)" 2
echo "PASS"
