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
    "$(grep -cF "ringfan: plugin validation: dropping to uid $(id -u nobody): Operation not permitted (becoming \`user\` takes CAP_SETUID and CAP_SETGID, and a uid the user namespace maps)" "$RF_ERR")" 1

# Not root (here a user namespace that maps no one: the files are still
# root's own to read), the check cannot become the workers' user either:
# it checks the plugins as the user it runs as, and says so before the
# "configuration ok", naming both, instead of passing for a check as them.
# (The user is root here: unmapped, the check runs as uid 65534, nobody's.)
sed -i 's/^user: nobody$/user: root/' "$RF_CONF"
rc=0
unshare --user "$RINGFAN" -c "$RF_CONF" -t >"$RF_OUT" 2>"$RF_ERR" || rc=$?
rf_expect "ringfan -t, not root: exit status" "$rc" 0
rf_expect "ringfan -t, not root: the user not checked is said" \
    "$(grep -c "^ringfan: user root: the plugins were checked as uid 65534, not as root (uid 0): only root can become it; run the check as root to check them as the workers run them\$" "$RF_ERR")" 1
rf_expect "ringfan -t, not root: then configuration ok" \
    "$(tail -n 1 "$RF_ERR")" "ringfan: $RF_CONF: configuration ok"
echo "PASS"
