#!/bin/bash
# `mode: rollover` with `rollover: true`: the flag adds nothing to the mode
# (docs/configuration.md), and `-t` accepts it, but the kernel refuses the
# pair with EINVAL, so the start failed (exit 2, "setsockopt(PACKET_FANOUT,
# rollover group N): Invalid argument").  It must start and count exactly.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

K=1000

rf_link
rf_config 2 rollover "udp port 9" "plugin: counter"
sed -i "s/^      group:.*/&\n      rollover: true/" "$RF_CONF"
grep -q "^      rollover: true$" "$RF_CONF" || rf_fail "could not edit $RF_CONF"
"$RINGFAN" -c "$RF_CONF" -t 2>/dev/null || rf_fail "-t refuses the file"
rf_start
rf_send -t udp -n "$K" -f 16 -s 64
rf_stop
rf_expect_all "$K"
echo "PASS"
