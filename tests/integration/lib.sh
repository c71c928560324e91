# shellcheck shell=bash
#
# Shared part of the integration tests, sourced by each test_*.sh (which run
# under `set -eu`).  It makes a private link for the test: a veth pair whose
# generator end GEN lives in a network namespace of the test's own, while
# ringfan captures on the other end, CAP, in the root namespace.  Names are
# unique per run, and a trap removes everything on any exit, so a failed or
# interrupted test leaves nothing behind and never touches a real interface.
#
# Environment, set by meson.build: RINGFAN, RFSEND, PLUGIN_PATH_BUILD,
# PLUGIN_PATH_TEST.  Exit status 77 tells meson the test was skipped.

rf_fail()
{
	echo "FAIL: $*" >&2
	exit 1
}

rf_skip()
{
	echo "SKIP: $*"
	exit 77
}

[ "$(id -u)" -eq 0 ] || rf_skip "needs root"
# RF_NETNS=1, set by a test before it sources this file: the test runs
# again, from its start, in a network namespace and a mount namespace of
# its own (netns.sh, mode sysfs).  The sysfs mounted there hides the cgroup
# file systems: rf_pids_cgroup skips in such a test.
if [ "${RF_NETNS-}" = 1 ]; then
	. "$(dirname "${BASH_SOURCE[0]}")/netns.sh"
	netns_enter sysfs "$@"
fi
: "${RINGFAN:?RINGFAN must name the ringfan binary}"
: "${RFSEND:?RFSEND must name the rfsend binary}"
: "${PLUGIN_PATH_BUILD:?PLUGIN_PATH_BUILD must be set}"
: "${PLUGIN_PATH_TEST:?PLUGIN_PATH_TEST must be set}"
. "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
need_tools jq
command -v ip >/dev/null 2>&1 || rf_skip "no ip(8) (iproute2)"

RF_ID=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
RF_NS=rfns$RF_ID		# namespace names have no length limit
RF_CAP=rfc$RF_ID		# interface names: at most 15 characters
RF_GEN=rfg$RF_ID
RF_GROUP=$((0x$RF_ID % 50000 + 10000))	# a fanout id no one else uses
RF_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ringfan-it.XXXXXX")
RF_CONF=$RF_TMP/ringfan.yaml
RF_OUT=$RF_TMP/ringfan.out
RF_ERR=$RF_TMP/ringfan.err
RF_STATS=$RF_TMP/stats.json
RF_PID=
RF_RUN=0
RF_LINK=0
RF_IN_NS=0	# 1: rf_start runs ringfan in the namespace (rf_ns)
RF_MNT=
RF_CG=
# Pids of what a test runs in the background (collectors, listeners), as
# in nolink.sh, ended first by the cleanup; logs it shows when the test
# fails, beside ringfan's stderr.
BG=""
RF_LOGS=""

# True while process $1 runs; a child that exited stays a zombie until it is
# waited for, and kill -0 would still find it.
rf_alive()
{
	local state

	[ -r "/proc/$1/stat" ] || return 1
	state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$state" ] && [ "$state" != Z ]
}

# ringfan runs in a session of its own: its process group then holds the
# master and every worker, and the cleanup can end them all by that id.
# Under a signal (RF_SIGNALLED) at once with SIGKILL: meson kills the test
# half a second after its SIGTERM, and the cleanup must be done by then.
rf_kill_group()
{
	local pid=$1 i

	if [ "$RF_SIGNALLED" -eq 1 ]; then
		kill -KILL -- "-$pid" 2>/dev/null
		return 0
	fi
	kill -TERM -- "-$pid" 2>/dev/null || return 0
	for ((i = 0; i < 30; i++)); do
		rf_alive "$pid" || break
		sleep 0.1
	done
	kill -KILL -- "-$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

rf_cleanup()
{
	local rc=$? p

	set +e
	for p in $BG; do
		if [ "$RF_SIGNALLED" -eq 1 ]; then
			kill -KILL "$p" 2>/dev/null
			continue
		fi
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	[ -n "$RF_PID" ] && rf_kill_group "$RF_PID"
	if [ "$RF_LINK" -eq 1 ]; then
		ip link del "$RF_CAP" 2>/dev/null	# takes its peer along
		ip link del "${RF_CAP}b" 2>/dev/null	# rf_link2's, if made
		ip netns del "$RF_NS" 2>/dev/null
	fi
	# After ringfan: its workers may hold files open there (and may
	# still, killed a moment ago: then the mount goes as they do).
	if [ -n "$RF_MNT" ]; then
		umount "$RF_MNT" 2>/dev/null || umount -l "$RF_MNT" 2>/dev/null
		rmdir "$RF_MNT"
	fi
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -s "$RF_ERR" ]; then
		echo "--- last lines of ringfan's stderr ($RF_ERR):" >&2
		tail -n 40 "$RF_ERR" >&2
	fi
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		for p in $RF_LOGS; do
			[ -s "$p" ] || continue
			echo "--- last lines of $p:" >&2
			tail -n 10 "$p" >&2
		done
	fi
	rm -rf "$RF_TMP"
	# Once the processes in it are gone, which may take a moment.
	for p in 1 2 3 4 5 6 7 8 9 10; do
		[ -n "$RF_CG" ] && ! rmdir "$RF_CG" 2>/dev/null || break
		sleep 0.1
	done
	exit "$rc"
}
RF_SIGNALLED=0
trap rf_cleanup EXIT
trap 'RF_SIGNALLED=1; exit 130' INT
trap 'RF_SIGNALLED=1; exit 143' TERM

# rf_bg_forget PID: PID, waited for, leaves the list the cleanup ends.
rf_bg_forget()
{
	BG=" $BG "
	BG=${BG/ $1 / }
	BG=${BG# }
	BG=${BG% }
}

# rf_pids_cgroup: a pids cgroup of the test's own (v1 or v2) in RF_CG,
# removed by the cleanup; a skip where there is none.  Processes are put in
# it by writing their pid to $RF_CG/cgroup.procs, limited by its pids.max.
rf_pids_cgroup()
{
	local cg

	if [ -w /sys/fs/cgroup/pids ]; then
		cg=/sys/fs/cgroup/pids/rf$RF_ID
	elif grep -qw pids /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
	then
		cg=/sys/fs/cgroup/rf$RF_ID
	else
		rf_skip "no pids cgroup controller to limit processes with"
	fi
	mkdir "$cg" 2>/dev/null || rf_skip "cannot make a pids cgroup"
	RF_CG=$cg
}

# rf_tmpfs SIZE: a tmpfs of SIZE (mount's size=) on a directory of its own,
# RF_MNT, unmounted by the cleanup.  Returns 1 when it cannot be mounted.
rf_tmpfs()
{
	RF_MNT=$(mktemp -d "${TMPDIR:-/tmp}/ringfan-mnt.XXXXXX")
	if ! mount -t tmpfs -o "size=$1,mode=0700" tmpfs "$RF_MNT" \
	    2>/dev/null; then
		rmdir "$RF_MNT"
		RF_MNT=
		return 1
	fi
}

# rf_veth [CAP GEN]: the veth pair of the link (RF_CAP and RF_GEN unless
# named) in the namespace made already: GEN in the namespace, IPv6 off on
# both ends before they come up (otherwise neighbour and router
# solicitations add frames that no test sent), both up.  Returns 1 when the
# pair cannot be made.
rf_veth()
{
	local cap=${1:-$RF_CAP} gen=${2:-$RF_GEN} i

	# Called left of ||, where set -e does not hold: each step checked.
	ip link add "$cap" type veth peer name "$gen" 2>/dev/null || return 1
	ip link set "$gen" netns "$RF_NS" || rf_fail "cannot move $gen into $RF_NS"
	if [ -e "/proc/sys/net/ipv6/conf/$cap/disable_ipv6" ]; then
		echo 1 >"/proc/sys/net/ipv6/conf/$cap/disable_ipv6" &&
		ip netns exec "$RF_NS" sh -ec "
		    echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6
		    echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6
		    echo 1 >/proc/sys/net/ipv6/conf/$gen/disable_ipv6" ||
		    rf_fail "cannot turn IPv6 off on $cap and $gen"
	fi
	ip link set "$cap" up && ip netns exec "$RF_NS" ip link set "$gen" up ||
	    rf_fail "cannot bring $cap and $gen up"
	for ((i = 0; i < 50; i++)); do
		[ "$(cat "/sys/class/net/$cap/operstate")" = up ] && return 0
		sleep 0.1
	done
	rf_fail "$cap did not come up"
}

# rf_ns: the test's namespace, removed by the cleanup with what it holds;
# in_ns COMMAND...: runs COMMAND in it.  A test that makes its own devices
# there (a tun, its loopback) sets RF_IN_NS=1 to have rf_start run ringfan
# in it too.
rf_ns()
{
	ip netns add "$RF_NS" 2>/dev/null ||
	    rf_skip "cannot create a network namespace (ip netns add)"
	RF_LINK=1
}

in_ns()
{
	ip netns exec "$RF_NS" "$@"
}

# Makes the link: the namespace and the veth pair.
rf_link()
{
	rf_ns
	rf_veth || rf_skip "cannot create a veth pair"
}

# rf_link2: after rf_link, a second pair in the same namespace, CAP2 here
# and GEN2 there (deleting the namespace removes it).
rf_link2()
{
	CAP2=${RF_CAP}b GEN2=${RF_GEN}b
	rf_veth "$CAP2" "$GEN2" || rf_fail "cannot create a second veth pair"
}

# rf_fanout_other IFACE GROUP TYPE_FLAGS OUT: another program, in the
# background (its pid in RF_OTHER and BG): one packet socket on IFACE in
# fanout group GROUP, PACKET_FANOUT's type and flags TYPE_FLAGS, with a
# 4 MiB receive buffer, counting the UDP frames to port 9; returns once it
# is in the group.  rf_fanout_other_end: stops it, once it has read what
# its socket holds, its count the line `frames N` of OUT.
rf_fanout_other()
{
	rm -f "$RF_TMP/other-done"
	python3 - "$1" "$2" "$3" "$RF_TMP/other-done" >"$4" <<'PY' &
import os, socket, struct, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((sys.argv[1], 0))
s.setsockopt(socket.SOL_SOCKET, 33, 4 << 20)		# SO_RCVBUFFORCE
s.setsockopt(263, 18, struct.pack('I', int(sys.argv[2]) |
    int(sys.argv[3], 0) << 16))				# PACKET_FANOUT
s.settimeout(0.1)
print('joined', flush=True)
def counts(f):
    # IPv4, UDP, destination port 9
    return f[12:14] == b'\x08\x00' and f[23] == 17 and f[36:38] == b'\x00\x09'
n = 0
while not os.path.exists(sys.argv[4]):
    try:
        n += counts(s.recv(65536))
    except socket.timeout:
        continue
s.setblocking(False)
while True:
    try:
        n += counts(s.recv(65536))
    except BlockingIOError:
        break
print('frames', n, flush=True)
PY
	RF_OTHER=$!
	BG="$BG $RF_OTHER"
	rf_wait_until 5 "the other program in fanout group $2" grep -q joined \
	    "$4"
}

rf_fanout_other_end()
{
	touch "$RF_TMP/other-done"
	wait "$RF_OTHER"
	rf_bg_forget "$RF_OTHER"
}

# rf_pids: the workers' pids, comma-separated, as the live `workers` says.
rf_pids()
{
	rf_ctl_json workers '[.workers[].pid] | join(",")'
}

# rf_phase WHAT N TOTAL: N more UDP frames to port 9 over 64 flows, paced
# at 20,000 a second (a macvlan hands broadcast frames on through a queue
# of its own), counted once, TOTAL in all, the first capture running.
rf_phase()
{
	rf_send -t udp -n "$2" -f 64 -s 64 -r 20000
	rf_wait_until 20 "$1: $3 frames counted" rf_live_sum_is .packets "$3"
	rf_expect "$1: state" "$(rf_ctl_json status '.captures[0].state')" \
	    running
}

# rf_same_workers WHAT PIDS: the workers are those of PIDS (rf_pids), and
# no interface was taken for gone.
rf_same_workers()
{
	rf_expect "$1: worker pids" "$(rf_pids)" "$2"
	if grep -q "is gone" "$RF_ERR"; then
		rf_fail "$1: the capture took its interface for gone:" \
		    "$(grep "is gone" "$RF_ERR")"
	fi
}

# rf_lock_of GROUP: the lock file of fanout group GROUP in ringfan's
# network namespace (the test's before rf_start).  rf_second_refused
# GROUP: a second ringfan on $RF_CONF, with a control socket and pidfile
# of its own and fanout group GROUP, exits 2, refused by the lock of GROUP
# that the master ($RF_PID) holds.
rf_lock_of()
{
	echo "/run/ringfan/fanout-net$(stat -L -c %i \
	    "/proc/${RF_PID:-self}/ns/net")-$1.lock"
}

rf_second_refused()
{
	local lock rc=0

	lock=$(rf_lock_of "$1")
	sed -e "s|$RF_TMP/control.sock|$RF_TMP/second.sock|" \
	    -e "s|$RF_TMP/ringfan.pid|$RF_TMP/second.pid|" \
	    -e "s|^      group: [0-9]*\$|      group: $1|" "$RF_CONF" \
	    >"$RF_TMP/second.yaml"
	grep -q "^      group: $1\$" "$RF_TMP/second.yaml" ||
	    rf_fail "no group $1 in the second configuration"
	timeout --foreground 20 "$RINGFAN" -c "$RF_TMP/second.yaml" \
	    >"$RF_TMP/second.out" 2>"$RF_TMP/second.err" || rc=$?
	rf_expect "second instance on group $1: exit status" "$rc" 2
	grep -qF "capture test: interface $RF_CAP, fanout group $1: already used by another ringfan in this network namespace (pid $RF_PID; lock $lock)" \
	    "$RF_TMP/second.err" ||
	    rf_fail "second instance: $(cat "$RF_TMP/second.err")"
	echo "ok: the second instance was refused:" \
	    "$(grep already "$RF_TMP/second.err")"
}

# rf_config_head: the start of a configuration for the test's control
# socket and plugin paths, up to `captures:`, on stdout.
rf_config_head()
{
	cat <<-YAML
	control:
	  socket: "$RF_TMP/control.sock"
	  pidfile: "$RF_TMP/ringfan.pid"
	plugin_path: ["$PLUGIN_PATH_BUILD", "$PLUGIN_PATH_TEST"]
	captures:
	YAML
}

# rf_config WORKERS MODE BPF [PIPELINE-ENTRY...]
# Writes $RF_CONF: one capture on CAP.  An empty BPF means no filter; each
# pipeline entry is the YAML of one list item, e.g. "plugin: counter".
rf_config()
{
	local workers=$1 mode=$2 bpf=$3 entry

	shift 3
	RF_WORKERS=$workers
	{
		rf_config_head
		cat <<-YAML
		  - name: test
		    interface: $RF_CAP
		    workers: $workers
		    cpu_affinity: none
		    fanout:
		      mode: $mode
		      group: $RF_GROUP
		    ring:
		      block_size: 64KiB
		      block_count: 32
		      block_timeout: 10ms
		YAML
		[ -z "$bpf" ] || echo "    bpf: \"$bpf\""
		echo "    pipeline:"
		for entry in "$@"; do
			echo "      - $entry"
		done
	} >"$RF_CONF"
}

# rf_start_ahead SECONDS [CHILDREN]: rf_start with ringfan's real-time
# clock read SECONDS ahead of the kernel's (clockahead.c, preloaded) while
# the file $RF_AHEAD exists; removing it is, to ringfan, a step back of
# the clock.  CHILDREN 1: the workers read it ahead too, else the master
# alone.
rf_start_ahead()
{
	RF_AHEAD=$RF_TMP/clock-ahead
	touch "$RF_AHEAD"
	CLOCKAHEAD_FILE=$RF_AHEAD CLOCKAHEAD_SECONDS=$1 \
	    CLOCKAHEAD_CHILDREN=${2:-0} \
	    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
	    LD_PRELOAD=$CLOCKAHEAD rf_start
}

# Starts ringfan on $RF_CONF in the background and returns once it says
# every worker is in its loop: frames sent before that could be missed.
rf_start()
{
	local i in=()

	RF_RUN=$((RF_RUN + 1))
	RF_OUT=$RF_TMP/ringfan.$RF_RUN.out
	RF_ERR=$RF_TMP/ringfan.$RF_RUN.err
	[ "$RF_IN_NS" -eq 0 ] || in=(ip netns exec "$RF_NS")
	if command -v setsid >/dev/null 2>&1; then
		"${in[@]}" setsid "$RINGFAN" -c "$RF_CONF" >"$RF_OUT" \
		    2>"$RF_ERR" &
	else
		"${in[@]}" "$RINGFAN" -c "$RF_CONF" >"$RF_OUT" 2>"$RF_ERR" &
	fi
	RF_PID=$!
	for ((i = 0; i < 100; i++)); do
		if grep -q "ready:" "$RF_ERR"; then
			grep -Eq "ready: $RF_WORKERS workers? on" "$RF_ERR" ||
			    rf_fail "expected \"ready: $RF_WORKERS workers\"," \
			    "got: $(grep "ready:" "$RF_ERR")"
			return 0
		fi
		if ! rf_alive "$RF_PID"; then
			i=0
			wait "$RF_PID" || i=$?
			RF_PID=
			rf_fail "ringfan exited with status $i before ready"
		fi
		sleep 0.1
	done
	rf_fail "ringfan did not log \"ready:\" within 10 s"
}

# Stops ringfan with SIGTERM, checks it exits 0 and keeps the last JSON
# document of its stdout (the final stats) in $RF_STATS.
rf_stop()
{
	local i rc=0

	# The last frames may still sit in a softirq backlog or in a block
	# that the ring has not retired yet.
	sleep "${RF_SETTLE:-0.5}"
	kill -TERM "$RF_PID"
	for ((i = 0; i < 150; i++)); do
		rf_alive "$RF_PID" || break
		sleep 0.1
	done
	if rf_alive "$RF_PID"; then
		rf_kill_group "$RF_PID"
		RF_PID=
		rf_fail "ringfan did not stop within 15 s of SIGTERM"
	fi
	wait "$RF_PID" || rc=$?
	RF_PID=
	[ "$rc" -eq 0 ] || rf_fail "ringfan exited with status $rc on SIGTERM"
	jq -s -e 'length > 0' "$RF_OUT" >/dev/null 2>&1 ||
	    rf_fail "ringfan's stdout holds no JSON document: $(head -c 300 "$RF_OUT")"
	jq -s 'last' "$RF_OUT" >"$RF_STATS"
}

# rf_wait_exit SECONDS WHAT: ringfan ($RF_PID), told to stop, must exit 0
# within SECONDS.
rf_wait_exit()
{
	local i rc=0

	for ((i = 0; i < $1 * 10; i++)); do
		rf_alive "$RF_PID" || break
		sleep 0.1
	done
	rf_alive "$RF_PID" && rf_fail "$2: ringfan did not exit within $1 s"
	wait "$RF_PID" || rc=$?
	RF_PID=
	rf_expect "$2: exit status" "$rc" 0
}

# rf_send RFSEND-ARGS...: runs rfsend on GEN inside the namespace.
rf_send()
{
	ip netns exec "$RF_NS" "$RFSEND" -i "$RF_GEN" -q "$@" ||
	    rf_fail "rfsend $* failed"
}

# rf_json FILTER: the raw jq result of FILTER over the final stats.
rf_json()
{
	jq -r "$1" "$RF_STATS"
}

# rf_num FILTER: like rf_json, but the result must be a whole number.
rf_num()
{
	local v

	v=$(jq -r "$1" "$RF_STATS")
	[[ "$v" =~ ^[0-9]+$ ]] || rf_fail "$1 is \"$v\", not a number"
	echo "$v"
}

# rf_expect NAME ACTUAL EXPECTED
rf_expect()
{
	[ "$2" = "$3" ] || rf_fail "$1: got $2, expected $3"
	echo "ok: $1 = $2"
}

# rf_expect_all N: the first capture handed all N frames the kernel took to
# its pipeline, none dropped, none quarantined.
rf_expect_all()
{
	rf_expect "totals.packets" "$(rf_num '.captures[0].totals.packets')" "$1"
	rf_expect "totals.kernel_packets" \
	    "$(rf_num '.captures[0].totals.kernel_packets')" "$1"
	rf_expect "totals.kernel_drops" \
	    "$(rf_num '.captures[0].totals.kernel_drops')" 0
	rf_expect "totals.quarantined" \
	    "$(rf_num '.captures[0].totals.quarantined')" 0
}

# rf_pcap_frames FILE: the frames tcpdump reads in FILE, which it must read
# with exit status 0 and no complaint of a cut record ("truncated").  Call
# it alone in an assignment (n=$(rf_pcap_frames F)), where `set -e` ends
# the test when it fails.
rf_pcap_frames()
{
	local rc=0

	tcpdump -r "$1" -nn -q >"$RF_TMP/td.out" 2>"$RF_TMP/td.err" || rc=$?
	[ "$rc" -eq 0 ] && ! grep -qi truncated "$RF_TMP/td.err" ||
	    rf_fail "tcpdump -r $1 (exit $rc): $(grep -v '^reading from' \
	    "$RF_TMP/td.err")"
	wc -l <"$RF_TMP/td.out"
}

# rf_pcap_lengths FILE: "caplen/len" of each record of the pcap FILE, as
# tshark reads them, on one line.
rf_pcap_lengths()
{
	tshark -r "$1" -T fields -e frame.cap_len -e frame.len 2>/dev/null |
	    awk '{ printf "%s%s/%s", (NR > 1 ? " " : ""), $1, $2 }
	    END { print "" }'
}

# rf_hostmem_config DIR [STEP...]: rf_config of 2 workers, hash fanout,
# the pipeline counter, the hostmem test plugin (what it does when it
# recovers its memory: the file RECOVER, made empty if there is none),
# flowtable writing DIR/flows-{worker}.json with idle_timeout 60s, then
# STEPs.
RECOVER=$RF_TMP/on_recover
rf_hostmem_config()
{
	local dir=$1

	shift
	[ -e "$RECOVER" ] || : >"$RECOVER"
	rf_config 2 hash "udp port 9" "plugin: counter" \
	    "{ plugin: hostmem, config: { on_recover: \"$RECOVER\" } }" \
	    "{ plugin: flowtable, config: { output: \"$dir/flows-{worker}.json\", idle_timeout: 60s } }" \
	    "$@"
}

# rf_reload_kill_1 SED: of two running workers, worker 0 stopped, so that
# it holds the hand-over of a pipeline reload (SED, a sed expression, makes
# the change in $RF_CONF), which runs in the background (rf_reload_bg;
# rf_reload_end waits for it); worker 1, still on the previous pipeline,
# killed.  Sets pid0 and pid1.
rf_reload_kill_1()
{
	pid0=$(rf_ctl_num workers '.workers[0].pid')
	pid1=$(rf_ctl_num workers '.workers[1].pid')
	kill -STOP "$pid0"
	sed -i "$1" "$RF_CONF"
	rf_reload_bg
	rf_wait_until 10 "the reload under way" grep -q \
	    "restarting workers one at a time" "$RF_ERR"
	kill -KILL "$pid1"
}

# rf_closer_of_1: after rf_reload_kill_1, worker 1 started again on the
# previous pipeline to close what it left: that closer's pid in closer.
rf_closer_of_1()
{
	rf_wait_until 5 "worker 1 started on its previous pipeline" grep -q \
	    "worker test/1: started on its previous pipeline, to close what it left" \
	    "$RF_ERR"
	closer=$(rf_ctl_num workers '.workers[1].pid')
	[ "$closer" != "$pid1" ] && [ "$closer" -gt 0 ] ||
	    rf_fail "no closer process for worker 1 (pid $closer)"
}

# rf_send_handled N: N frames sent, and every one handled, by both workers.
rf_send_handled()
{
	rf_send -t udp -n "$1" -f 64 -s 64
	rf_wait_until 10 "every frame handled" rf_ctl_test stats \
	    ".captures[0].totals.packets == $1 and
	     ([.captures[0].workers[] | .packets > 0] | all)"
}

# rf_written DIR: after rf_stop, the accounting equation of the first
# capture's totals, and how many of the frames its workers handled are in
# the flow records of DIR/flows-*.json and in the pcap files of DIR/pcap:
# sets P (packets), Q (quarantined), FLOWS and FRAMES.  rf_all_written:
# each of FLOWS and FRAMES is P, or up to Q more (a frame in hand at a
# kill may be written, or not).
rf_written()
{
	local f n kp kd

	P=$(rf_num '.captures[0].totals.packets')
	Q=$(rf_num '.captures[0].totals.quarantined')
	kp=$(rf_num '.captures[0].totals.kernel_packets')
	kd=$(rf_num '.captures[0].totals.kernel_drops')
	rf_expect "packets + kernel_drops + quarantined" $((P + kd + Q)) "$kp"
	FLOWS=$(rf_flow_frames "$1")
	FRAMES=0
	for f in "$1"/pcap/*.pcap; do
		n=$(rf_pcap_frames "$f")
		FRAMES=$((FRAMES + n))
	done
	echo "packets $P, quarantined $Q, in flow records $FLOWS," \
	    "in pcap files $FRAMES"
}

# rf_flow_frames DIR: the frames that the flow records DIR/flows-*.json
# count.  rf_flows_are DIR K: true when they count K (and FLOWS is that
# count).
rf_flow_frames()
{
	cat "$1"/flows-*.json 2>/dev/null |
	    jq -s '[.[] | .fwd.packets + .rev.packets] | add // 0'
}

rf_flows_are()
{
	FLOWS=$(rf_flow_frames "$1")
	[ "$FLOWS" = "$2" ]
}

# rf_stuck_gone N M [STEP...]: ringfan on a link of its own with one
# worker, its pipeline counter, the STEPs and spin (stuck on a frame of
# 100 bytes; the stall watch off); N frames handled, the marked frame and
# M more in the ring; then the interface and its namespace deleted.  The
# worker, stuck, is killed at the 5 s drain deadline of the interface's
# end, without closing its plugins.
rf_stuck_gone()
{
	local n=$1 m=$2

	shift 2
	rf_link
	rf_config 1 hash "udp port 9" "plugin: counter" "$@" \
	    "{ plugin: spin, config: { len: 100 } }"
	sed -i '1i stall_timeout: 0' "$RF_CONF"
	rf_start
	rf_send -t udp -n "$n" -f 8 -s 64
	rf_wait_until 10 "$n frames handled" rf_ctl_test stats \
	    ".captures[0].totals.packets == $n"
	rf_send -t udp -n 1 -f 1 -s 100
	rf_send -t udp -n "$m" -f 1 -s 64
	rf_wait_until 5 "the frames in the ring" rf_ctl_test stats \
	    ".captures[0].totals.kernel_packets == $((n + 1 + m))"
	ip link del "$RF_CAP"
	ip netns del "$RF_NS"
	RF_LINK=0
}

rf_all_written()
{
	[ "$FLOWS" -ge "$P" ] && [ "$FLOWS" -le $((P + Q)) ] ||
	    rf_fail "flow records count $FLOWS frames, the workers handled" \
	    "$P (+$Q quarantined)"
	[ "$FRAMES" -ge "$P" ] && [ "$FRAMES" -le $((P + Q)) ] ||
	    rf_fail "pcap files hold $FRAMES frames, the workers handled $P" \
	    "(+$Q quarantined)"
}

# rf_sum FIELD: FIELD summed over the workers of the first capture.
rf_sum()
{
	rf_num "[.captures[0].workers[] | $1] | add"
}

# --- Helpers of the control-socket tests (ringfanctl, supervision, reload,
# daemon mode).  They need RINGFANCTL, set by meson.build; a test calls
# rf_need_ctl first.

# rf_promtool_clean FILE WHAT: FILE (a metrics page) is what Prometheus
# accepts: promtool exits 0 when it can parse the text and has no lint to
# report; a lint (a name it dislikes, say) is printed and makes the status
# non-zero.  The test needs promtool (need_tools).
rf_promtool_clean()
{
	local rc=0

	promtool check metrics <"$1" >"$RF_TMP/promtool.out" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ] || [ -s "$RF_TMP/promtool.out" ]; then
		rf_fail "$2: promtool check metrics exited $rc:" \
		    "$(cat "$RF_TMP/promtool.out")"
	fi
	echo "ok: $2: promtool check metrics"
}

rf_need_ctl()
{
	: "${RINGFANCTL:?RINGFANCTL must name the ringfanctl binary}"
	[ -x "$RINGFANCTL" ] || rf_fail "RINGFANCTL=$RINGFANCTL is not executable"
	RF_SOCK=$RF_TMP/control.sock
}

# rf_ctl ARGS...: ringfanctl on the test's control socket; its exit status
# is returned, not checked.
rf_ctl()
{
	"$RINGFANCTL" -s "$RF_SOCK" "$@"
}

# rf_ctl_json COMMAND FILTER: jq -r FILTER over the live reply to COMMAND
# (--json); fails the test when ringfanctl fails or the reply is not JSON.
rf_ctl_json()
{
	local doc rc=0

	doc=$("$RINGFANCTL" -s "$RF_SOCK" --json "$1" 2>"$RF_TMP/ctl.err") ||
	    rc=$?
	[ "$rc" -eq 0 ] || rf_fail "ringfanctl --json $1 exited $rc:" \
	    "$(cat "$RF_TMP/ctl.err")"
	jq -r "$2" <<<"$doc" ||
	    rf_fail "ringfanctl --json $1: jq '$2' failed on: ${doc:0:300}"
}

# rf_ctl_num COMMAND FILTER: like rf_ctl_json, the result a whole number.
rf_ctl_num()
{
	local v

	v=$(rf_ctl_json "$1" "$2")
	[[ "$v" =~ ^[0-9]+$ ]] || rf_fail "live $1: $2 is \"$v\", not a number"
	echo "$v"
}

# rf_live_sum FIELD: FIELD summed over the workers of the first capture, in
# the live stats (rf_sum's for the final ones); rf_live_sum_is FIELD N: it
# is N.
rf_live_sum()
{
	rf_ctl_num stats "[.captures[0].workers[] | $1] | add"
}

rf_live_sum_is()
{
	[ "$(rf_live_sum "$1")" = "$2" ]
}

# rf_wait_flowing N: waits until the first capture's workers have counted
# at least N frames between them, live: the background traffic reaches
# them, however slow the machine, before a test acts on it.
rf_wait_flowing()
{
	rf_wait_until 20 "$1 frames counted" \
	    rf_ctl_test stats "[.captures[0].workers[].packets] | add >= $1"
}

# rf_wait_until SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.1 s
# until it succeeds; fails the test with DESCRIPTION after SECONDS.
rf_wait_until()
{
	local secs=$1 what=$2 i n

	shift 2
	n=$(awk -v s="$secs" 'BEGIN { printf "%d", s * 10 }')
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	"$@" && return 0
	rf_fail "timed out after $secs s waiting for: $what"
}

# wait_for: rf_wait_until under nolink.sh's name, for the helpers that
# both kinds of test source (free_port.sh).
wait_for()
{
	rf_wait_until "$@"
}

# rf_ctl_test COMMAND JQ-CONDITION: true when the live reply to COMMAND
# satisfies the condition (for rf_wait_until); false on any failure.
rf_ctl_test()
{
	local doc

	# No answer is not a match (jq -e is true on empty input).
	doc=$("$RINGFANCTL" -s "$RF_SOCK" --json "$1" 2>/dev/null) || return 1
	[ -n "$doc" ] && jq -e "$2" >/dev/null 2>&1 <<<"$doc"
}

# rf_reload_fails WHAT WANT PIPELINE: a reload (of $RF_CONF as it is now)
# is refused with the error WANT, which status keeps as its
# last_reload_error, and the first capture is left running on every worker
# with the pipeline PIPELINE (its step names, comma-separated).
rf_reload_fails()
{
	local what=$1 want=$2 rc=0

	rf_ctl reload >"$RF_TMP/reload.out" 2>"$RF_TMP/reload.err" || rc=$?
	rf_expect "$what: reload exit status" "$rc" 1
	rf_expect "$what: reload stderr" "$(cat "$RF_TMP/reload.err")" \
	    "ringfanctl: $want"
	rf_expect "$what: reload stdout" "$(cat "$RF_TMP/reload.out")" ""
	rf_expect "$what: status.last_reload_error" \
	    "$(rf_ctl_json status .last_reload_error)" "$want"
	rf_expect "$what: capture state" \
	    "$(rf_ctl_json status '.captures[0].state')" running
	rf_expect "$what: workers running" \
	    "$(rf_ctl_json workers '[.workers[] | select(.state == "running")] | length')" \
	    "$RF_WORKERS"
	rf_expect "$what: pipeline" \
	    "$(rf_ctl_json plugins '[.captures[0].plugins[].name] | join(",")')" \
	    "$3"
}

# rf_set_defrag BOOL: fanout.defrag BOOL in the capture of $RF_CONF.
rf_set_defrag()
{
	sed -i "s/^      group:.*/&\n      defrag: $1/" "$RF_CONF"
	grep -q "defrag: $1" "$RF_CONF" || rf_fail "could not edit $RF_CONF"
}

# rf_replay FILE [TCPREPLAY-ARGS...]: sends the frames of the pcap FILE
# from GEN, inside the namespace, with tcpreplay (at the file's pace unless
# the arguments say otherwise).
rf_replay()
{
	local f=$1

	shift
	ip netns exec "$RF_NS" tcpreplay -q -i "$RF_GEN" "$@" "$f" \
	    >"$RF_TMP/tcpreplay.out" 2>&1 ||
	    rf_fail "tcpreplay $f: $(cat "$RF_TMP/tcpreplay.out")"
}

# rf_send_bg RFSEND-ARGS...: rfsend in the background; RF_SEND_PID is its
# pid (in BG until it ends), and rf_send_wait checks its exit status.
rf_send_bg()
{
	ip netns exec "$RF_NS" "$RFSEND" -i "$RF_GEN" -q "$@" &
	RF_SEND_PID=$!
	BG="$BG $RF_SEND_PID"
}

rf_send_wait()
{
	local rc=0

	wait "$RF_SEND_PID" || rc=$?
	rf_bg_forget "$RF_SEND_PID"
	RF_SEND_PID=
	[ "$rc" -eq 0 ] || rf_fail "background rfsend exited with status $rc"
}

# rf_nl_drops: the link messages the kernel dropped for ringfan's master
# ($RF_PID) on its route netlink socket (/proc/net/netlink: protocol 0, in
# a multicast group, its inode one of the master's descriptors); nothing
# when it has no such socket.
rf_nl_drops()
{
	local inodes

	inodes=$(find "/proc/$RF_PID/fd" -lname 'socket:*' -printf '%l\n' |
	    tr -dc '0-9\n' | tr '\n' ' ')
	awk -v inodes=" $inodes" '$2 == 0 && $4 != "00000000" &&
	    index(inodes, " " $10 " ") { print $9; exit }' /proc/net/netlink
}

# rf_set_ring BLOCK_SIZE BLOCK_COUNT BLOCK_TIMEOUT: changes the ring of the
# capture in $RF_CONF (as written by rf_config).
rf_set_ring()
{
	sed -i -e "s/^\(      block_size:\).*/\1 $1/" \
	    -e "s/^\(      block_count:\).*/\1 $2/" \
	    -e "s/^\(      block_timeout:\).*/\1 $3/" "$RF_CONF"
	grep -q "^      block_size: $1\$" "$RF_CONF" ||
	    rf_fail "rf_set_ring: could not edit $RF_CONF"
}

# rf_bpf_hosts N: a filter of N `host` terms for addresses that send
# nothing here, then rfsend's receiver (10.2.0.1): libpcap takes seconds
# over a few hundred.
rf_bpf_hosts()
{
	local long

	long=$(seq 0 $(($1 - 1)) |
	    awk '{ printf "host 10.9.%d.%d or ", $1 / 256, $1 % 256 }')
	echo "${long}host 10.2.0.1"
}

# rf_set_bpf EXPR: every capture's bpf line of $RF_CONF set to EXPR.
rf_set_bpf()
{
	sed -i "s|^    bpf: .*|    bpf: \"$1\"|" "$RF_CONF"
}

# rf_compilers: the pids of the filter compilers the log names, in order;
# rf_compilers_at_least N: it names N or more.
rf_compilers()
{
	sed -n 's/.*: compiling [0-9]* new filters\{0,1\} in a child (pid \([0-9]*\)); .*/\1/p' \
	    "$RF_ERR"
}

rf_compilers_at_least()
{
	[ "$(rf_compilers | wc -l)" -ge "$1" ]
}

# rf_reload_bg [RINGFANCTL-OPTION...]: ringfanctl reload in the background
# (RF_RELOAD_PID, in BG until it ends), its output in $RF_TMP/reload.out and
# reload.err; rf_reload_end WHAT WANT: that reload exits with status WANT.
rf_reload_bg()
{
	rf_ctl "$@" reload >"$RF_TMP/reload.out" 2>"$RF_TMP/reload.err" &
	RF_RELOAD_PID=$!
	BG="$BG $RF_RELOAD_PID"
}

rf_reload_end()
{
	local rc=0

	wait "$RF_RELOAD_PID" || rc=$?
	rf_bg_forget "$RF_RELOAD_PID"
	rf_expect "$1: reload exit status" "$rc" "$2"
}

# rf_expect_cut MTU BLOCK MOST: the start warned once, for capture small,
# that a block of BLOCK bytes cuts the frames of $RF_CAP (MTU MTU) to MOST.
rf_expect_cut()
{
	local w="capture small: interface $RF_CAP has MTU $1, but a block of"

	w="$w $2 bytes holds a frame of at most $3: longer frames are cut to"
	w="$w that (raise block_size)"
	rf_expect "warnings" "$(grep -c "MTU" "$RF_ERR" || true)" 1
	grep -qF "warn: $w" "$RF_ERR" ||
	    rf_fail "no warning: $(grep MTU "$RF_ERR")"
}

# rf_wait_running SECONDS N: waits until N workers are running.
rf_wait_running()
{
	rf_wait_until "$1" "$2 workers running" rf_ctl_test workers \
	    "[.workers[] | select(.state == \"running\")] | length == $2"
}

# rf_thread_act WHAT N OPTIONS: one worker with the test plugin threader
# (its OPTIONS, `after: N` and the `go` file $RF_TMP/go), N frames sent and
# counted, then the go file made, so that the thread acts while the worker
# waits for frames, outside every callback; returns once the worker was
# started again and runs.
rf_thread_act()
{
	local what=$1 n=$2

	rm -f "$RF_TMP/go"
	rf_config 1 hash "udp port 9" \
	    "{ plugin: threader, config: { $3, after: $n, go: \"$RF_TMP/go\" } }"
	rf_start
	rf_send -t udp -n "$n" -f 1 -s 64 -r 20000
	rf_wait_until 10 "$what: $n frames counted" \
	    rf_ctl_test stats ".captures[0].totals.packets == $n"
	: >"$RF_TMP/go"
	rf_wait_until 10 "$what: the worker respawned and running" \
	    rf_ctl_test workers '.workers[0].restarts == 1 and
	     .workers[0].state == "running"'
}
