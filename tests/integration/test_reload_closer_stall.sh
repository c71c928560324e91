#!/bin/bash
# A pipeline reload during which worker 1, still on the previous pipeline,
# is killed: its closer, recovering what it left in hostmem's open, hangs
# there while frames wait in its ring.  The stall watch kills it, and its
# death is logged as any other stall's, where it was named once:
# `killed after a stall in plugin hostmem's open, closing its previous
# pipeline`.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

rf_link
dir=$RF_TMP/out
mkdir -p "$dir"
rf_hostmem_config "$dir"
sed -i '1i stall_timeout: 1s' "$RF_CONF"
rf_start
rf_send_handled 2000

echo "sleep 30" >"$RECOVER"
# Worker 0, stopped, holds the hand-over: worker 1 waits for its turn on
# the previous pipeline.
rf_reload_kill_1 's/idle_timeout: 60s/idle_timeout: 50s/'
rf_closer_of_1
rf_send -t udp -n 2000 -f 64 -s 64
rf_wait_until 8 "the closer's stall logged" grep -q \
    "worker test/1 (pid $closer) killed after a stall" "$RF_ERR"
: >"$RECOVER"
kill -CONT "$pid0" 2>/dev/null || true
rf_reload_end "the reload" 0
rf_expect "the closer's death" \
    "$(grep -o "worker test/1 (pid $closer) killed after a stall.*" "$RF_ERR")" \
    "worker test/1 (pid $closer) killed after a stall in plugin hostmem's open, closing its previous pipeline; starting the new one"
rf_stop
rf_expect "kernel_packets" "$(rf_num '.captures[0].totals.kernel_packets')" \
    4000
rf_expect "packets + kernel_drops + quarantined" "$(rf_num \
    '.captures[0].totals | .packets + .kernel_drops + .quarantined')" 4000
echo "PASS"
