#!/bin/bash
# A process that a plugin forks must not keep the capture alive
# (docs/architecture.md, "Sandbox").  forker forks, in each worker's open, a
# helper that outlives the worker and the master.  Once ringfan has stopped,
# no packet socket may remain on the link: a mapping of the ring holds the
# socket, and a socket kept by such an orphan stays in the fanout group,
# where a later ringfan in the same group would share its frames with a ring
# no one reads, losing them uncounted.  So a second run, without forker and
# in the same group, must count every frame sent.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
getent passwd nobody >/dev/null || rf_skip "no user nobody"

K=1000
FK_DIR=$RF_TMP/forker

# The helpers are the test's own processes: ended by their pids, which
# they wrote into FK_DIR, before lib.sh removes the link.
fk_end_helpers()
{
	local f

	[ -d "$FK_DIR" ] || return 0
	: >"$FK_DIR/stop"
	for f in "$FK_DIR"/helper.*; do
		[ -e "$f" ] || continue
		kill -KILL "${f##*.}" 2>/dev/null || true
	done
}
trap 'fk_rc=$?; set +e; fk_end_helpers; (exit $fk_rc); rf_cleanup' EXIT

# fk_sockets: the packet sockets bound to CAP (column 5 of
# /proc/net/packet is the interface index).
fk_sockets()
{
	awk -v i="$(cat "/sys/class/net/$RF_CAP/ifindex")" \
	    'NR > 1 && $5 == i' /proc/net/packet | wc -l
}

rf_link
# The plugin directory readable, the helpers' directory writable by nobody.
chmod 755 "$RF_TMP"
mkdir -m 1777 "$FK_DIR"

rf_config 2 hash "" "plugin: counter" \
    "{ plugin: forker, config: { dir: \"$FK_DIR\" } }"
sed -i '1i user: nobody' "$RF_CONF"
rf_start
rf_send -t udp -n "$K" -f 64 -s 64 -r 20000
rf_stop
rf_expect "forker: helpers forked" "$(rf_sum '.plugins.forker.helpers')" 2
rf_expect_all "$K"
# A helper removes its file as it exits, but not when it is killed: the
# file says it started, its process that it still runs.
n=0
for f in "$FK_DIR"/helper.*; do
	[ -e "$f" ] || continue
	! rf_alive "${f##*.}" || n=$((n + 1))
done
rf_expect "forker: helpers alive after the stop" "$n" 2
rf_expect "packet sockets on $RF_CAP after the stop" "$(fk_sockets)" 0

# The same group, no forker: every frame is this run's.
rf_config 2 hash "" "plugin: counter"
sed -i '1i user: nobody' "$RF_CONF"
rf_start
rf_send -t udp -n "$K" -f 64 -s 64 -r 20000
rf_stop
rf_expect_all "$K"
rf_expect "sum of counter.ethernet" "$(rf_sum .plugins.counter.ethernet)" "$K"
echo "PASS"
