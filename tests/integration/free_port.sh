# shellcheck shell=bash
#
# free_port udp|tcp: a port of 127.0.0.1 that nothing uses now, for a
# collector a test starts there.  Sourced by the IPFIX tests, after
# nolink.sh.
free_port()
{
	python3 -c 'import socket, sys
t = socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM
s = socket.socket(socket.AF_INET, t)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' "$1"
}

# nfcapd_start DIR: nfcapd on a free UDP port of 127.0.0.1, writing its
# files into DIR, once it says it started; sets port and NFPID, and puts
# NFPID in BG (nolink.sh stops what BG names).  nfcapd_stop: once nfcapd
# has read every datagram waiting (it ends at SIGTERM with what it has
# read), SIGTERM, then waits for it to write its file and end, and takes
# it out of BG.
nfcapd_start()
{
	port=$(free_port udp)
	NFPORT=$port
	mkdir -p "$1"
	nfcapd -b 127.0.0.1 -p "$port" -w "$1" -t 3600 >"$1.log" 2>&1 &
	NFPID=$!
	BG="$BG $NFPID"
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
