#!/bin/bash
# ringfan as the systemd unit runs it: with the capabilities of its
# CapabilityBoundingSet=, no new privileges, and the system-call filter of
# its SystemCallFilter= lines (groups expanded by systemd-analyze, what
# they leave out failing with EPERM as SystemCallErrorNumber= says), all
# read from config/ringfan.service.in.  `ringfan -t` (ExecStartPre=) passes
# and a start runs, the workers (as `user`) under their own seccomp filter
# too, and puts the interface in promiscuous mode.  With `user:` set, the master must still signal its workers: the
# stall watch's SIGKILL replaces a stalled worker, and the stop needs no
# SIGKILL.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
need_tools python3 setpriv systemd-analyze
getent passwd nobody >/dev/null || rf_skip "no user nobody"
UNIT=$(dirname "${BASH_SOURCE[0]}")/../../config/ringfan.service.in

# CAP_NET_RAW CAP_KILL ... -> -all,+net_raw,+kill,...
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
[ -n "$caps" ] || rf_fail "$UNIT has no CapabilityBoundingSet="
bset=-all
for c in $caps; do
	c=${c#CAP_}
	bset=$bset,+${c,,}
done
echo "bounding set of the unit: $caps"

# The allowed calls, one a line: the allow lines' calls and groups, less
# the ~ lines'.
systemd-analyze syscall-filter >"$RF_TMP/groups" 2>/dev/null ||
    rf_fail "systemd-analyze syscall-filter failed"
sed -n 's/^SystemCallFilter=//p' "$UNIT" >"$RF_TMP/filter"
python3 - "$RF_TMP/groups" "$RF_TMP/filter" >"$RF_TMP/allowed" <<'PY'
import sys
groups, cur = {}, None
for line in open(sys.argv[1]):
    word = line.strip()
    if not word or word.startswith('#'):
        continue
    if not line[0].isspace():
        cur = groups.setdefault(word, [])
    elif cur is not None:
        cur.append(word)
def calls(name):
    if not name.startswith('@'):
        return {name}
    return set().union(*(calls(n) for n in groups[name]))
allow, deny = set(), set()
for line in open(sys.argv[2]):
    deny_line = line.startswith('~')
    for name in line.lstrip('~').split():
        (deny if deny_line else allow).update(calls(name))
print('\n'.join(sorted(allow - deny)))
PY
# Loads that filter (libseccomp through ctypes), then runs ringfan.
cat >"$RF_TMP/unitfilter.py" <<'PY'
import ctypes, errno, os, sys
sc = ctypes.CDLL('libseccomp.so.2', use_errno=True)
libc = ctypes.CDLL(None, use_errno=True)
sc.seccomp_init.restype = ctypes.c_void_p
sc.seccomp_init.argtypes = [ctypes.c_uint32]
sc.seccomp_rule_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32,
                                ctypes.c_int, ctypes.c_uint]
sc.seccomp_load.argtypes = [ctypes.c_void_p]
SCMP_ACT_ALLOW, SCMP_ACT_ERRNO = 0x7fff0000, 0x00050000
f = sc.seccomp_init(SCMP_ACT_ERRNO | errno.EPERM)
# systemd allows these whatever the filter says.
names = open(sys.argv[1]).read().split() + ['execve', 'exit',
    'exit_group', 'getrlimit', 'rt_sigreturn', 'sigreturn']
for name in names:
    nr = sc.seccomp_syscall_resolve_name(name.encode())
    if nr >= 0:
        sc.seccomp_rule_add(f, SCMP_ACT_ALLOW, nr, 0)
if libc.prctl(38, 1, 0, 0, 0) != 0 or sc.seccomp_load(f) != 0:
    sys.exit('unitfilter: cannot load the filter')
os.execv(sys.argv[2], sys.argv[2:])
PY

rf_link
rf_config 1 hash "udp port 9" "plugin: counter" \
    "{ plugin: spin, config: { len: 100 } }"
sed -i -e '1i user: nobody' -e '1i stall_timeout: 1s' "$RF_CONF"
chmod 0755 "$RF_TMP"
REAL=$RINGFAN
RINGFAN=$RF_TMP/ringfan-unit
# LeakSanitizer, in a sanitized build, traces the process at its exit,
# which the filter refuses (ptrace): it is not run here.
cat >"$RINGFAN" <<SH
#!/bin/sh
export ASAN_OPTIONS="\${ASAN_OPTIONS:+\$ASAN_OPTIONS:}detect_leaks=0"
exec setpriv --bounding-set=$bset --inh-caps=-all --no-new-privs \\
    python3 "$RF_TMP/unitfilter.py" "$RF_TMP/allowed" "$REAL" "\$@"
SH
chmod 0755 "$RINGFAN"

rc=0
"$RINGFAN" -c "$RF_CONF" -t 2>"$RF_TMP/check.err" || rc=$?
rf_expect "-t as the unit runs it ($(cat "$RF_TMP/check.err"))" "$rc" 0
rf_start
rf_expect "the master's seccomp mode" \
    "$(sed -n 's/^Seccomp:[[:space:]]*//p' "/proc/$RF_PID/status")" 2
# Promiscuous mode (the default) with the unit's capabilities: IFF_PROMISC.
rf_expect "$RF_CAP promiscuous" \
    $(($(cat "/sys/class/net/$RF_CAP/flags") & 0x100)) 256

# A frame of 100 bytes stalls the worker: the master kills and replaces it.
old=$(rf_ctl_json workers '.workers[0].pid')
rf_send -t udp -n 1 -f 1 -s 100
rf_wait_until 10 "the stalled worker killed and replaced" rf_ctl_test \
    workers ".workers[0].stalls == 1 and .workers[0].pid != $old and
    .workers[0].state == \"running\""
rf_alive "$old" && rf_fail "the stalled worker $old still runs"
echo "ok: stalled worker $old killed and replaced"
rf_send -t udp -n 10 -f 10 -s 64

rf_stop
rf_expect "restarts" "$(rf_num '.captures[0].workers[0].restarts')" 1
# counter, before spin, counted the stalled frame too.
rf_expect "sum of counter.udp" "$(rf_sum .plugins.counter.udp)" 11
grep -q "did not stop" "$RF_ERR" &&
    rf_fail "a worker needed SIGKILL at the stop: $(grep "did not stop" "$RF_ERR")"
echo "PASS"
