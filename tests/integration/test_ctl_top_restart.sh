#!/bin/bash
# ringfanctl top across a restart of the daemon (ringfanctl(1)): the screen
# after the restart shows its rates as 0, even when the new daemon has by
# then been up longer than the old one had at the screen before, and the
# screen after that shows rates again.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

rf_link
rf_config 1 hash "udp port 9" "plugin: counter"
rf_start
rf_send -t udp -n 100 -f 16 -s 64
rf_wait_until 5 "the first daemon's 100 frames" rf_ctl_test stats \
    '.captures[0].totals.packets == 100'

# Screens at 0, 6 and 12 s; the restart lands between the first two, within
# about 2 s of the first, so that by the second the new daemon has been up
# some 4 s, well beyond the old one's uptime at the first (whole seconds
# are compared below).
rf_ctl -d 6 -n 3 top >"$RF_TMP/top.txt" 2>"$RF_TMP/top.err" </dev/null &
top_pid=$!
rf_wait_until 3 "top's first screen" grep -q '^ringfan ' "$RF_TMP/top.txt"
RF_SETTLE=0 rf_stop
rf_start
rf_send -t udp -n 400 -f 16 -s 64
rf_wait_until 5 "the second daemon's 400 frames" rf_ctl_test stats \
    '.captures[0].totals.packets == 400'
screens()
{
	[ "$(grep -c '^ringfan ' "$RF_TMP/top.txt")" -ge "$1" ]
}
rf_wait_until 8 "top's second screen" screens 2
rf_send -t udp -n 300 -f 16 -s 64
rc=0
wait "$top_pid" || rc=$?
cat "$RF_TMP/top.txt"
rf_expect "top's exit status" "$rc" 0
rf_expect "top's stderr" "$(cat "$RF_TMP/top.err")" ""

ver=$("$RINGFANCTL" -V | sed 's/^ringfanctl //')
# The header line and the worker and total rows of screen N.
screen()
{
	awk -v n="$1" '/^ringfan / { s++ } s == n' "$RF_TMP/top.txt"
}
header()
{
	screen "$1" | head -n 1 | sed 's/ at [0-9:]*, up [0-9:]*:/:/'
}
rows()
{
	screen "$1" | awk '/^WORKER +STATE/ { t = 1; next }
	    t && /^(0|total) / { print } /^total / { exit }' | tr -s ' '
}
rf_expect "screen 1 header" "$(header 1)" \
    "ringfan $ver: 0 pkt/s, 0.00 Mbit/s, 0 drops/s; packets 100, kdrops 0 (0.00%)"
rf_expect "screen 2 (after the restart) header" "$(header 2)" \
    "ringfan $ver: 0 pkt/s, 0.00 Mbit/s, 0 drops/s; packets 400, kdrops 0 (0.00%)"
rf_expect "screen 2 (after the restart) rows" "$(rows 2)" \
    "0 running 0 0.00 0 400 0 0.00 0
total - 0 0.00 0 400 0 0.00 0"
# The new daemon's uptime at screen 2 beats the old one's at screen 1:
# uptime alone could not tell the restart.
up1=$(screen 1 | head -n 1 | sed 's/.*, up \([0-9:]*\):.*/\1/')
up2=$(screen 2 | head -n 1 | sed 's/.*, up \([0-9:]*\):.*/\1/')
[[ "$up2" > "$up1" ]] ||
    rf_fail "the second daemon's uptime $up2 is not above the first's $up1"
# Screen 3: 300 more frames, rates again (the seconds between screens
# vary, so only that they are there is checked).
rows 3 | awk '$1 == "total" && $6 == 700 && $3 > 0 { ok = 1 }
    END { exit !ok }' ||
    rf_fail "screen 3: no rate for the 300 frames: $(rows 3)"
echo "ok: screen 3 rates again: $(rows 3 | tail -n 1)"
echo "PASS"
