#!/bin/bash
# control.group and control.mode: the socket is made in directories that
# ringfan creates, 0755 whatever the umask, and is mode 0660 with the
# configured group, so that a member of the group uses ringfanctl and
# anyone else is refused, "Permission denied".  Started under umask 027,
# which would otherwise make those directories 0750 root:root.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
need_tools setpriv
getent passwd nobody >/dev/null || rf_skip "no user nobody"
group=users
gid=$(getent group "$group" | cut -d: -f3) || rf_skip "no group $group"

rf_link
rf_config 1 hash "udp port 9" "plugin: counter"
RF_SOCK=$RF_TMP/run/ringfan/control.sock
sed -i -e "s|^  socket: .*|  socket: \"$RF_SOCK\"\n  group: $group\n  mode: \"0660\"|" \
    "$RF_CONF"
chmod 0755 "$RF_TMP"
install -m 0755 "$RINGFANCTL" "$RF_TMP/ringfanctl"
umask 027
rf_start
umask 022

rf_expect "socket directories" \
    "$(stat -c '%a %U:%G' "$RF_TMP/run" "$RF_TMP/run/ringfan" | tr '\n' ' ')" \
    "755 root:root 755 root:root "
rf_expect "socket" "$(stat -c '%a %U:%G %F' "$RF_SOCK")" \
    "660 root:$group socket"

rc=0
setpriv --reuid=65534 --regid=65534 --groups="$gid" "$RF_TMP/ringfanctl" \
    -s "$RF_SOCK" --json status >"$RF_TMP/member.out" \
    2>"$RF_TMP/member.err" || rc=$?
rf_expect "member of $group: exit status ($(cat "$RF_TMP/member.err"))" \
    "$rc" 0
rf_expect "member of $group: status.pid" "$(jq .pid "$RF_TMP/member.out")" \
    "$RF_PID"

rc=0
setpriv --reuid=65534 --regid=65534 --clear-groups "$RF_TMP/ringfanctl" \
    -s "$RF_SOCK" status >"$RF_TMP/other.out" 2>"$RF_TMP/other.err" || rc=$?
rf_expect "not a member: exit status" "$rc" 2
rf_expect "not a member: stderr" "$(cat "$RF_TMP/other.err")" \
    "ringfanctl: cannot connect to $RF_SOCK: Permission denied"
rf_stop
echo "PASS"
