#!/bin/bash
# A process limit that refuses the fork of the plugins' check (a pids
# cgroup whose pids.max the master alone fills) is the system's refusal,
# not the configuration's: ringfan, ringfan -D and ringfan -t say which
# call failed and why, and exit 2, not 1.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

rf_pids_cgroup
echo 1 >"$RF_CG/pids.max"

rf_link
rf_config 2 hash "" "plugin: counter"

# $@ run as the only process of the cgroup: any fork of its fails.  So
# would the task LeakSanitizer makes at the exit of a sanitized build: it
# is not run here.
limited()
{
	(echo "$BASHPID" >"$RF_CG/cgroup.procs" &&
	    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    exec "$@")
}

for args in "" "-D" "-t"; do
	rc=0
	# shellcheck disable=SC2086
	limited "$RINGFAN" -c "$RF_CONF" $args >"$RF_OUT" 2>"$RF_ERR" || rc=$?
	rf_expect "ringfan $args: exit status" "$rc" 2
	rf_expect "ringfan $args: the cause named" \
	    "$(grep -c "plugin validation: fork: Resource temporarily unavailable" "$RF_ERR")" 1
done

echo "PASS"
