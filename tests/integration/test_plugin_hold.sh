#!/bin/bash
# The plugin files the master holds for its workers (docs/architecture.md):
# it holds a file by its place (O_PATH), not open for reading.
# (a) A check after which a FIFO is at the plugin's path: ringfan -t is
#     not stuck in opening it, and says the configuration is ok.
# (b) A worker (as nobody) holds the master's descriptor of its plugin's
#     file as it loads it, and plugin code cannot read a byte through it;
#     the file unchanged, the worker loads it under its path (the name
#     debuggers and $ORIGIN go by), not /proc/self/fd/N.
# (c) The file removed, a respawned worker runs the build held, and its
#     warning says the file was removed, not that it was replaced.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
getent passwd nobody >/dev/null || rf_skip "no user nobody"

plug=$RF_TMP/plug
mkdir "$plug"
chmod 755 "$RF_TMP" "$plug"
cp "$PLUGIN_PATH_TEST/ctxprobe.so" "$PLUGIN_PATH_TEST/loadprobe.so" "$plug/"

# --- (a)
mkfifo "$plug/fifo"
cat >"$RF_CONF" <<YAML
plugin_path: ["$plug"]
captures:
  - name: test
    interface: rfnone$RF_ID
    workers: 1
    pipeline:
      - plugin: ctxprobe
        config: { rename_from: "$plug/fifo", rename_to: "$plug/ctxprobe.so" }
YAML
rc=0
timeout --foreground 15 "$RINGFAN" -t -c "$RF_CONF" >"$RF_OUT" 2>"$RF_ERR" || rc=$?
rf_expect "-t exit status" "$rc" 0
rf_expect "-t says" "$(tail -n 1 "$RF_ERR")" \
    "ringfan: $RF_CONF: configuration ok"
rf_expect "the FIFO at the plugin's path" "$(stat -c %F "$plug/ctxprobe.so")" \
    fifo

# --- (b)
rf_link
export RINGFAN_PROBE_READS=$RF_TMP/probe.reads
export RINGFAN_PROBE_FDS=$RF_TMP/probe.fds
export RINGFAN_PROBE_NAME=$RF_TMP/probe.name
: >"$RINGFAN_PROBE_READS"
: >"$RINGFAN_PROBE_FDS"
: >"$RINGFAN_PROBE_NAME"
chmod 666 "$RINGFAN_PROBE_READS" "$RINGFAN_PROBE_FDS" "$RINGFAN_PROBE_NAME"
rf_config 1 hash "" "plugin: loadprobe"
sed -i -e "s|^plugin_path: .*|plugin_path: [\"$plug\", \"$PLUGIN_PATH_BUILD\"]|" \
    -e '/^captures:/i user: nobody' "$RF_CONF"
rf_start
pid=$(rf_ctl_json workers '.workers[0].pid')

# --- (c)
rm "$plug/loadprobe.so"
kill -SEGV "$pid"
rf_wait_until 10 "a worker respawned after pid $pid" rf_ctl_test workers \
    ".workers[0].state == \"running\" and .workers[0].pid != $pid"
rf_stop
rf_expect "the respawned worker's warning" \
    "$(grep -F "warn: plugin loadprobe: " "$RF_ERR")" \
    "ringfan[test/0] warn: plugin loadprobe: $plug/loadprobe.so was removed since it was validated: running the build validated, as /proc/self/fd/$(sed -n 's/.*as \/proc\/self\/fd\/\([0-9]*\),.*/\1/p' "$RF_ERR" | head -n 1), until a reload"
rf_expect "the worker's descriptors as it loads loadprobe" \
    "$(grep -E "^$pid( |\$)" "$RINGFAN_PROBE_FDS")" "$pid $plug/loadprobe.so anon_inode:[eventpoll]"
rf_expect "what the worker's plugin code can read" \
    "$(grep -E "^$pid( |\$)" "$RINGFAN_PROBE_READS")" "$pid"
rf_expect "the name the worker loaded loadprobe under" \
    "$(grep -E "^$pid " "$RINGFAN_PROBE_NAME")" "$pid $plug/loadprobe.so"
echo "PASS"
