# shellcheck shell=bash
#
# free_port udp|tcp: a port of 127.0.0.1 that nothing uses now, for a
# collector a test starts there.  Sourced by the IPFIX tests, after
# nolink.sh or lib.sh.
free_port()
{
	python3 -c 'import socket, sys
t = socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM
s = socket.socket(socket.AF_INET, t)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' "$1"
}

# nfcapd_start DIR [PORT]: nfcapd on PORT of 127.0.0.1 (by default a free
# one), writing its files into DIR and its log to DIR.log, once it says it
# started; sets port, NFPORT and NFPID, puts NFPID in BG (the cleanup of
# nolink.sh and lib.sh stops what BG names) and the log in RF_LOGS.  nfcapd_stop: once nfcapd
# has read every datagram waiting (it ends at SIGTERM with what it has
# read), SIGTERM, then waits for it to write its file and end, and takes
# it out of BG.
nfcapd_start()
{
	port=${2:-$(free_port udp)}
	NFPORT=$port
	mkdir -p "$1"
	nfcapd -b 127.0.0.1 -p "$port" -w "$1" -t 3600 >"$1.log" 2>&1 &
	NFPID=$!
	BG="$BG $NFPID"
	RF_LOGS="${RF_LOGS-} $1.log"
	wait_for 10 "nfcapd on $port" grep -q "Startup nfcapd" "$1.log"
}

nfcapd_caught_up()
{
	[ "$(ss -Hunl "sport = :$NFPORT" | awk '{ print $2 }')" = 0 ]
}

nfcapd_stop()
{
	wait_for 10 "nfcapd reading every message" nfcapd_caught_up
	sleep 0.2
	kill -TERM "$NFPID"
	wait "$NFPID" 2>/dev/null || true
	BG=${BG/ $NFPID/}
}
