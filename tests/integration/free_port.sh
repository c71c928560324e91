# shellcheck shell=bash
#
# free_port udp|tcp: a port of 127.0.0.1 that nothing uses now, for a
# collector a test starts there.  Sourced by the IPFIX tests.
free_port()
{
	python3 -c 'import socket, sys
t = socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM
s = socket.socket(socket.AF_INET, t)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' "$1"
}
