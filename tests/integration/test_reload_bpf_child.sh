#!/bin/bash
# A capture reload whose filter is new has it compiled in a child, while
# the master goes on answering: libpcap takes seconds over the 400 terms
# here (12 s over 600), and the master used to serve no client and
# supervise no worker meanwhile.  The child killed, the reload fails with
# that cause and nothing changes; with another filter, `status` is
# answered while the child still runs, and the new sockets then take the
# filter.  A filter the child finds wrong is refused as at a start, by
# SIGHUP too; a reload refused after its compile leaves the filter
# compiled for the next.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

# reload_bg N: ringfanctl --json reload in the background, then its
# compile child, number N of the log, in CHILD.
reload_bg()
{
	rf_reload_bg --json
	rf_wait_until 10 "compiling child $1" rf_compilers_at_least "$1"
	CHILD=$(rf_compilers | sed -n "${1}p")
}

rf_link
rf_config 2 hash "udp port 7" "plugin: counter"
rf_start
# Not to port 7: the first filter passes none of them.
rf_send -t udp -n 5 -f 1

line=$(grep -n '^    bpf: ' "$RF_CONF" | cut -d: -f1)
where="$RF_CONF:$line:10: bpf"

# 1. The child killed long before it is done (600 terms: 12 s).
rf_set_bpf "$(rf_bpf_hosts 600)"
reload_bg 1
kill -KILL "$CHILD"
rf_reload_end killed 1
want="$where: the process compiling it was killed by signal 9 (Killed)"
rf_expect "killed: reload error" "$(cat "$RF_TMP/reload.err")" \
    "ringfanctl: $want"
rf_expect "killed: last_reload_error" \
    "$(rf_ctl_json status .last_reload_error)" "$want"
grep -q "filter compiler (pid $CHILD) was killed by signal 9 (Killed)$" \
    "$RF_ERR" || rf_fail "the child's death is not logged"
rf_expect "killed: workers running" \
    "$(rf_ctl_json workers '[.workers[] | select(.state == "running")] | length')" 2

# 2. Another: the master answers while the child runs, and the signals
# the whole process group gets are the master's (SIGHUP asks for the
# reload that waits for the child anyway).
long=$(rf_bpf_hosts 400)
rf_set_bpf "$long"
reload_bg 2
rf_expect "compiling: capture state" \
    "$(rf_ctl_json status '.captures[0].state')" running
rf_alive "$CHILD" || rf_fail "status was answered only after the compile"
kill -USR1 -- "-$RF_PID"
kill -HUP -- "-$RF_PID"
# However soon it is done: a death would be logged, an exit 0 is not.
rf_wait_until 30 "the child done" eval '! rf_alive "$CHILD"'
! grep -q "filter compiler (pid $CHILD) " "$RF_ERR" ||
    rf_fail "the child died of the process group's signals"
rf_reload_end compiled 0
rf_expect "compiled: reload result" "$(jq -r .result "$RF_TMP/reload.out")" \
    captures
rf_expect "compiled: last_reload_error" \
    "$(rf_ctl_json status .last_reload_error)" null
rf_wait_running 20 2
rf_send -t udp -n 5 -f 1

# 3. A filter libpcap refuses, by SIGHUP: refused as at a start.
rf_set_bpf "$long or port 70000"
kill -HUP "$RF_PID"
rf_wait_until 10 "compiling child 3" rf_compilers_at_least 3
rf_wait_until 20 "the refusal logged" grep -q \
    "reload failed, configuration unchanged: $where: illegal port number 70000 > 65535$" \
    "$RF_ERR"
rf_expect "refused: last_reload_error" \
    "$(rf_ctl_json status .last_reload_error)" \
    "$where: illegal port number 70000 > 65535"

# 4. A reload refused after its compile (a plugin's unknown option): the
# filter stays compiled for the next try, which needs no child.
rf_set_bpf "$(rf_bpf_hosts 200)"
sed -i 's/^      - plugin: counter$/      - { plugin: counter, config: { colour: red } }/' \
    "$RF_CONF"
rf_ctl reload >/dev/null 2>"$RF_TMP/reload.err" &&
    rf_fail "a reload with an unknown option passed"
grep -q 'plugin counter: unknown option "colour"' "$RF_TMP/reload.err" ||
    rf_fail "refused for: $(cat "$RF_TMP/reload.err")"
rf_expect "children by then" "$(rf_compilers | wc -l)" 4
sed -i 's/^      - { plugin: counter, config: { colour: red } }$/      - plugin: counter/' \
    "$RF_CONF"
rf_expect "the next try" "$(rf_ctl reload 2>&1)" "reload: ok (captures)"
rf_expect "children after it" "$(rf_compilers | wc -l)" 4

rf_stop
rf_expect "packets" "$(jq '.captures[0].totals.packets' "$RF_STATS")" 5
echo "PASS"
