#!/bin/bash
# A per-frame plugin whose packet returns a value that is neither
# RINGFAN_CONTINUE nor RINGFAN_STOP, live, as ringfan-plugin(7) and
# docs/plugins.md describe it: before a later step the value is taken as
# RINGFAN_STOP (the later step sees nothing) and warned of once in the
# worker; as the pipeline's only step it changes nothing and is not looked
# at, so no warning.  Every frame is handed to the pipeline either way.
# (Offline, where it is looked at alone too: test_offline_guard.sh.)
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

N=12
WARN='packet returned 7, neither RINGFAN_CONTINUE nor RINGFAN_STOP'

rf_link

rf_config 1 hash "udp port 9" "{ plugin: crash, config: { verdict: 7 } }"
rf_start
rf_send -t udp -n "$N" -f 3 -s 64
rf_stop
rf_expect_all "$N"
rf_expect "lone step: warnings" "$(grep -c "$WARN" "$RF_ERR" || true)" 0

rf_config 1 hash "udp port 9" "{ plugin: crash, config: { verdict: 7 } }" \
    "plugin: counter"
rf_start
rf_send -t udp -n "$N" -f 3 -s 64
rf_stop
rf_expect_all "$N"
rf_expect "after it: counter.ethernet" "$(rf_sum .plugins.counter.ethernet)" 0
rf_expect "before a step: warnings" "$(grep -c "$WARN" "$RF_ERR" || true)" 1
echo PASS
