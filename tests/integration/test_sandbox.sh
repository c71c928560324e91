#!/bin/bash
# The workers' sandbox (docs/architecture.md, "Sandbox").  A hostile plugin,
# inject, tries on its first frame to send a frame of its own on the link:
# through any packet socket it can find among its descriptors (also through
# a copy passed to itself over a Unix socket) and through new packet and raw
# sockets.  It must not get one frame out: tcpdump on the generator's end
# sees none of its frames (EtherType 0x88b6) while it sees every control
# frame sent on the capture's end (0x88b5), the plugin finds no packet socket and counts attempts but no
# success, every worker runs under a seccomp filter, and the capture's
# accounting is exact.  Once with workers as root (no `user:`: only the
# filter stands between them and a new packet socket), once as nobody.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
need_tools tcpdump
getent passwd nobody >/dev/null || rf_skip "no user nobody"

K=1000
SB_CONTROL=5
SB_TD_PID=

# tcpdump runs in the namespace: end it before lib.sh removes the link.
sb_tcpdump_stop()
{
	[ -n "$SB_TD_PID" ] || return 0
	kill -INT "$SB_TD_PID" 2>/dev/null || true
	wait "$SB_TD_PID" 2>/dev/null || true
	SB_TD_PID=
}
trap 'sb_rc=$?; set +e; sb_tcpdump_stop; (exit $sb_rc); rf_cleanup' EXIT

# sb_tcpdump_start FILE: capture on GEN, inside the namespace, into FILE.
sb_tcpdump_start()
{
	local i

	ip netns exec "$RF_NS" tcpdump -i "$RF_GEN" -n -U -w "$1" \
	    "ether proto 0x88b6 or ether proto 0x88b5" 2>"$1.err" &
	SB_TD_PID=$!
	for ((i = 0; i < 100; i++)); do
		grep -q "listening on" "$1.err" 2>/dev/null && return 0
		rf_alive "$SB_TD_PID" ||
		    rf_fail "tcpdump exited: $(cat "$1.err")"
		sleep 0.1
	done
	rf_fail "tcpdump did not start listening on $RF_GEN within 10 s"
}

# sb_fds PID: where each of PID's descriptors leads, a line each.
sb_fds()
{
	local fd

	for fd in /proc/"$1"/fd/*; do
		readlink "$fd" 2>/dev/null || true
	done
}

# sb_run LABEL: one run of ringfan with [counter, inject] and every check;
# ringfan starts with a descriptor of a file "stray" open as 9.
sb_run()
{
	local label=$1 pcap=$RF_TMP/gen.$1.pcap pid w n

	sb_tcpdump_start "$pcap"
	exec 9>"$RF_TMP/stray"
	rf_start
	exec 9>&-
	rf_ctl_json workers . >"$RF_TMP/workers.json"
	rf_expect "$label: workers" \
	    "$(jq '.workers | length' "$RF_TMP/workers.json")" 2
	for w in 0 1; do
		pid=$(jq -r ".workers[$w].pid" "$RF_TMP/workers.json")
		rf_expect "$label: worker $w Seccomp" \
		    "$(grep '^Seccomp:' "/proc/$pid/status")" \
		    "$(printf 'Seccomp:\t2')"
		# Neither the descriptor ringfan was started with nor the
		# master's fanout group lock.
		rf_expect "$label: worker $w's stray and lock descriptors" \
		    "$(sb_fds "$pid" | grep -c 'stray\|fanout-.*\.lock' ||
		    true)" 0
	done
	rf_expect "$label: the master's stray descriptor" \
	    "$(sb_fds "$RF_PID" | grep -c stray || true)" 0
	rf_expect "$label: the master's lock descriptor" \
	    "$(sb_fds "$RF_PID" | grep -c 'fanout-.*\.lock' || true)" 1
	rf_send -t udp -n "$K" -f 64 -s 64 -r 20000
	# The control: frames of EtherType 0x88b5 sent on CAP the way inject
	# would send, which tcpdump must see (the capture's filter drops them).
	"$RFSEND" -i "$RF_CAP" -q -t other -n "$SB_CONTROL" ||
	    rf_fail "rfsend on $RF_CAP failed"
	rf_stop
	sb_tcpdump_stop

	# One line per frame starts with its time; hex dumps follow.
	n=$(tcpdump -r "$pcap" -n "ether proto 0x88b6" 2>/dev/null |
	    grep -c '^[0-9]' || true)
	rf_expect "$label: injected frames on the wire" "$n" 0
	n=$(tcpdump -r "$pcap" -n "ether proto 0x88b5" 2>/dev/null |
	    grep -c '^[0-9]' || true)
	rf_expect "$label: control frames seen by tcpdump" "$n" "$SB_CONTROL"
	rf_expect "$label: sum of inject.successes" \
	    "$(rf_sum .plugins.inject.successes)" 0
	n=$(rf_sum .plugins.inject.attempts)
	[ "$n" -gt 0 ] || rf_fail "$label: inject made no attempt"
	echo "ok: $label: inject made $n attempts"
	rf_expect "$label: packet sockets inject found" \
	    "$(rf_sum .plugins.inject.found)" 0
	rf_expect "$label: raw IP sockets inject opened" \
	    "$(rf_sum .plugins.inject.raw_opened)" 0
	# Every worker that saw a frame tried.
	rf_expect "$label: workers with frames but no attempt" \
	    "$(rf_json '[.captures[0].workers[] | select(.packets > 0 and
	    .plugins.inject.attempts == 0)] | length')" 0
	rf_expect_all "$K"
	rf_expect "$label: sum of counter.ethernet" \
	    "$(rf_sum .plugins.counter.ethernet)" "$K"
	rf_expect "$label: sum of restarts" "$(rf_sum .restarts)" 0
}

rf_link
rf_config 2 hash "udp port 9" "plugin: counter" "plugin: inject"
sb_run root

# The plugin directory must be readable by nobody.
chmod 755 "$RF_TMP"
sed -i '1i user: nobody' "$RF_CONF"
sb_run nobody
echo "PASS"
