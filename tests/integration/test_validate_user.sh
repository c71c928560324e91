#!/bin/bash
# A check that cannot become the workers' user (`user:`), here in a user
# namespace that maps root alone and denies setgroups, is the system's
# refusal, not the configuration's: ringfan -t names the call and exits 2.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
getent passwd nobody >/dev/null || rf_skip "no user nobody"
unshare --user --map-root-user true 2>/dev/null ||
    rf_skip "cannot create a user namespace (unshare --user)"

rf_config 1 hash "" "plugin: counter"
sed -i '1i user: nobody' "$RF_CONF"
rc=0
unshare --user --map-root-user "$RINGFAN" -c "$RF_CONF" -t >"$RF_OUT" \
    2>"$RF_ERR" || rc=$?
rf_expect "ringfan -t, no user to become: exit status" "$rc" 2
rf_expect "ringfan -t, no user to become: the cause named" \
    "$(grep -c "^ringfan: plugin validation: dropping to uid $(id -u nobody): Operation not permitted\$" "$RF_ERR")" 1
echo "PASS"
