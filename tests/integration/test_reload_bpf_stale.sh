#!/bin/bash
# The death of the child compiling a reload's filters fails that reload
# only: the reload that ran after it read a file without the filter (put
# back meanwhile), and the failure it never reported was kept, so that the
# next reload bringing the filter again failed at once with the death of a
# child long gone instead of compiling it.  The child dies of SIGTERM as
# of any signal (it was blocked, as in the master).  Then a stop while the
# new child compiles: the waiting reload is answered, ringfan exits 0 and
# the child is gone.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

# Gone or answered: the reload in the background no longer waits.
child_or_answer()
{
	rf_compilers_at_least "$1" || ! rf_alive "$RF_RELOAD_PID"
}

rf_link
rf_config 1 hash "udp port 7" "plugin: counter"
rf_start
# 400 hosts: seconds of libpcap's time.
long=$(rf_bpf_hosts 400)

# 1. The filter put back while the child compiles, the child killed: the
# reload that then runs finds nothing changed.
rf_set_bpf "$long"
rf_reload_bg
rf_wait_until 10 "compiling child 1" rf_compilers_at_least 1
rf_set_bpf "udp port 7"
# By SIGTERM, as kill(1) sends: the master's blocked signals were the
# child's too, and it compiled on.
CHILD=$(rf_compilers | sed -n 1p)
kill -TERM "$CHILD"
rf_reload_end "put back" 0
grep -q "filter compiler (pid $CHILD) was killed by signal 15 (Terminated)$" \
    "$RF_ERR" || rf_fail "the child did not die of SIGTERM"
rf_expect "put back: reload result" "$(cat "$RF_TMP/reload.out")" \
    "reload: ok (unchanged)"

# 2. The filter again: compiled in a new child, not refused.
rf_set_bpf "$long"
rf_reload_bg
rf_wait_until 10 "a second child, or the answer" child_or_answer 2
rf_alive "$RF_RELOAD_PID" ||
    rf_fail "the reload was answered without a child: $(cat "$RF_TMP/reload.err")"
CHILD=$(rf_compilers | sed -n 2p)

# 3. Stopped while it compiles.
kill -TERM "$RF_PID"
rf_wait_exit 10 "stop while compiling"
rf_reload_end stopped 1
rf_expect "stopped: reload error" "$(cat "$RF_TMP/reload.err")" \
    "ringfanctl: reload: stopping before it could run"
rf_wait_until 2 "the child gone" eval '! rf_alive "$CHILD"'
echo "PASS"
