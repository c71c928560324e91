#!/bin/bash
# Network time does not pass frames that wait in the kernel's open block.
# 50 frames of one flow fill a few 4 KiB blocks, which the worker takes at
# once, and part of the next, which the kernel hands over only at its
# block_timeout, 400 ms later.  flowtable's idle timeout is 100 ms: its
# ticks must not end the flow in between, as the frames still to come are
# stamped within the timeout.  So live, as from the file pcapwriter wrote
# (`ringfan -r`), the flow is one record of 50 frames: it ends idle live,
# where time goes on after its last frame, and at the end of the file
# (shutdown) offline.
set -eu
. "$(dirname "$0")/lib.sh"
rf_need_ctl

mkdir "$RF_TMP/pcap"
rf_link
rf_config 1 hash "" "plugin: pcapwriter
        config: { directory: \"$RF_TMP/pcap\", nanosecond: true }" \
    "plugin: flowtable
        config: { idle_timeout: 100ms, output: \"$RF_TMP/live.json\" }"
sed -i -e 's/block_size: 64KiB/block_size: 4KiB/' \
    -e 's/block_timeout: 10ms/block_timeout: 400ms/' "$RF_CONF"
rf_start
rf_send -n 50 -f 1
# Ended idle before the stop, which would end it otherwise.
rf_wait_until 5 "the flow ended idle" rf_ctl_test stats \
    '.captures[0].workers[0].plugins.flowtable.expired_idle >= 1'
rf_stop
rf_expect "frames" "$(rf_sum '.packets')" 50
rf_expect "live records" "$(jq -c '[.fwd.packets, .reason]' \
    "$RF_TMP/live.json")" '[50,"idle"]'
sed -e "s|$RF_TMP/live.json|$RF_TMP/file.json|" \
    -e '/plugin: pcapwriter/,+1d' "$RF_CONF" >"$RF_TMP/file.yaml"
"$RINGFAN" -c "$RF_TMP/file.yaml" -r "$RF_TMP"/pcap/*.pcap \
    >"$RF_TMP/file.stats" 2>"$RF_TMP/file.err" ||
    rf_fail "ringfan -r failed: $(cat "$RF_TMP/file.err")"
rf_expect "records live and from the file" \
    "$(jq -c -S 'del(.worker, .reason)' "$RF_TMP/live.json")" \
    "$(jq -c -S 'del(.worker, .reason)' "$RF_TMP/file.json")"
echo PASS
