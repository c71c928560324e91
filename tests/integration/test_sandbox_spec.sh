#!/bin/bash
# The seccomp filter of the processes that run plugin code is loaded with
# SECCOMP_FILTER_FLAG_SPEC_ALLOW (framework/sandbox.c): where the kernel's
# speculation mitigations follow seccomp (spec_store_bypass_disable or
# spectre_v2_user `seccomp`), a filter without it turns them on in every
# worker.  strace(1) shows the flags of the seccomp(2) call that loads the
# filter, in the process that checks a pipeline for `ringfan -t` (the
# worker's filter is the same function's).  A kernel that refuses the flag
# (libseccomp asks it first) skips.
set -eu
NOLINK_NAME=sbspec
. "$(dirname "${BASH_SOURCE[0]}")/nolink.sh"
need_tools strace
# Where ptrace is refused (Yama's ptrace_scope 3, some containers), strace
# cannot look.
strace -o /dev/null true 2>/dev/null ||
    { echo "SKIP: strace cannot trace here (ptrace refused)"; exit 77; }

cat >"$TMP/rf.yaml" <<YAML
plugin_path: ["$PLUGIN_PATH_BUILD"]
captures:
  - name: spec
    interface: none
    pipeline:
      - plugin: counter
YAML
# LeakSanitizer (the sanitizer build) cannot work under a tracer.
rc=0
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
    strace -f -e trace=seccomp -o "$TMP/strace" \
    "$RINGFAN" -c "$TMP/rf.yaml" -t >"$TMP/out" 2>&1 || rc=$?
expect "ringfan -t: exit status" "$rc" 0
grep -q "configuration ok" "$TMP/out" || fail "no \"configuration ok\": $(cat "$TMP/out")"
# libseccomp's probe: a filter of NULL with the flag alone, which a kernel
# that knows the flag refuses for the pointer (EFAULT), another for it.
probe=$(grep -E 'SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW, NULL\)' \
    "$TMP/strace" | head -n 1)
[ -n "$probe" ] || fail "libseccomp never asked for the flag: $(cat "$TMP/strace")"
case $probe in
*EFAULT*) ;;
*) echo "SKIP: the kernel refuses SECCOMP_FILTER_FLAG_SPEC_ALLOW: $probe"; exit 77 ;;
esac
loads=$(grep -c 'SECCOMP_SET_MODE_FILTER, .*filter=' "$TMP/strace" || true)
expect "filters loaded" "$loads" 1
grep 'SECCOMP_SET_MODE_FILTER, .*filter=' "$TMP/strace" |
    grep -q 'SECCOMP_FILTER_FLAG_SPEC_ALLOW' ||
    fail "the filter was loaded without SECCOMP_FILTER_FLAG_SPEC_ALLOW:" \
    "$(grep 'filter=' "$TMP/strace")"
echo "PASS"
