#!/bin/bash
# ringfan -r over capture files of every link type the decoder knows:
# Ethernet (1), Linux cooked v1 (113) and v2 (276), raw IP (101), IPv4 (228),
# IPv6 (229) and BSD loopback (0).  Each file holds a mix of frames its link
# type can carry; counter's counts must equal what tshark finds in the same
# file, to the frame.  The Linux cooked files' frames carry packet types
# of every kind: ctxprobe's count of those PACKET_OUTGOING (4) must equal
# tshark's `sll.pkttype == 4` (0 on the other links).
#
# Where the two could define a count differently, the frames are chosen so
# that they agree:
# - counter counts tcp, udp and icmp by the protocol number, also in a later
#   fragment; tshark dissects a protocol only in a datagram it reassembled.
#   The lone later fragment here carries GRE, which neither counts.
# - tshark matches `udp` on the UDP header an ICMP error quotes; counter
#   does not look inside ICMP.  The ICMP messages here are echo requests.
# - `ip` and `ipv6` match IP in any layer, counter only the network layer:
#   nothing here tunnels IP in IP.
#
# It needs no root and no link.
set -eu

: "${RINGFAN:?RINGFAN must name the ringfan binary}"
: "${PLUGIN_PATH_BUILD:?PLUGIN_PATH_BUILD must be set}"
: "${PLUGIN_PATH_TEST:?PLUGIN_PATH_TEST must be set}"

fail()
{
	echo "FAIL: $*" >&2
	exit 1
}

. "$(dirname "${BASH_SOURCE[0]}")/tools.sh"
need_tools tshark jq python3

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ringfan-linktypes.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

cat >"$TMP/c.yaml" <<YAML
plugin_path: ["$PLUGIN_PATH_BUILD", "$PLUGIN_PATH_TEST"]
captures:
  - name: offline
    interface: eth0
    workers: 1
    pipeline:
      - plugin: counter
      - plugin: ctxprobe
YAML

# One classic pcap file per link type, named after it.
python3 - "$TMP" <<'PY'
import itertools
import struct
import sys

out = sys.argv[1]
SRC4, DST4 = bytes([192, 0, 2, 1]), bytes([198, 51, 100, 2])
SRC6 = bytes.fromhex("20010db8000000000000000000000001")
DST6 = bytes.fromhex("20010db8000000000000000000000002")


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def l4sum(src, dst, proto, seg):
    """The TCP/UDP/ICMPv6 checksum over the IPv4 or IPv6 pseudo-header."""
    if len(src) == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, proto, len(seg))
    else:
        pseudo = src + dst + struct.pack("!IxxxB", len(seg), proto)
    return csum(pseudo + seg)


def with_sum(seg, at, value):
    return seg[:at] + struct.pack("!H", value) + seg[at + 2:]


def ipv4(proto, payload, opts=b"", frag=0):
    hlen = 20 + len(opts)
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | hlen // 4, 0, hlen + len(payload),
                    0x1234, frag, 64, proto, 0, SRC4, DST4) + opts
    return with_sum(h, 10, csum(h)) + payload


def ipv6(nh, payload):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, 64,
                       SRC6, DST6) + payload


def udp(src, dst, data):
    seg = struct.pack("!HHHH", 40001, 40002, 8 + len(data), 0) + data
    return with_sum(seg, 6, l4sum(src, dst, 17, seg) or 0xFFFF)


def tcp(src, dst):
    seg = struct.pack("!HHIIBBHHH", 40000, 8080, 1, 0, 5 << 4, 0x02, 65535,
                      0, 0)
    return with_sum(seg, 16, l4sum(src, dst, 6, seg))


def echo(type_, src=None, dst=None):
    msg = struct.pack("!BBHHH", type_, 0, 0, 7, 1) + b"ringfan!"
    value = csum(msg) if src is None else l4sum(src, dst, 58, msg)
    return with_sum(msg, 2, value)


ARP = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1,
                  bytes.fromhex("020000000001"), SRC4, bytes(6), DST4)
# The frames of the mix, at the network layer, and how many of each.
V4 = [
    (3, ipv4(6, tcp(SRC4, DST4))),
    (2, ipv4(17, udp(SRC4, DST4, b"payload"))),
    (1, ipv4(1, echo(8))),
    # Options: router alert, then UDP.
    (2, ipv4(17, udp(SRC4, DST4, b"options"), opts=bytes([148, 4, 0, 0]))),
    # The last fragment (offset 1480) of a GRE datagram.
    (1, ipv4(47, bytes(range(24)), frag=185)),
]
V6 = [
    (1, ipv6(6, tcp(SRC6, DST6))),
    # A hop-by-hop header (PadN) before UDP.
    (2, ipv6(0, bytes([17, 0, 1, 4, 0, 0, 0, 0]) +
             udp(SRC6, DST6, b"hop-by-hop"))),
    (1, ipv6(58, echo(128, SRC6, DST6))),
]
NO_NEXT = ipv6(59, b"")


def ether(etype, body):
    return (b"\xff" * 6 + bytes.fromhex("020000000001") +
            struct.pack("!H", etype) + body)


# Packet types: to us, outgoing, broadcast, multicast, to another host.
PKTTYPE = itertools.cycle([0, 4, 1, 4, 2, 3, 4])


def sll(etype, body):
    return struct.pack("!HHH8sH", next(PKTTYPE), 1, 6,
                       bytes.fromhex("0200000000010000"), etype) + body


def sll2(etype, body):
    return struct.pack("!HHIHBB8s", etype, 0, 2, 1, next(PKTTYPE), 6,
                       bytes.fromhex("0200000000010000")) + body


def typed(link):
    """The mix for a link with an EtherType: IP, a tag, ARP, and LLDP's
    neighbour 0x88b5 (local experimental)."""
    frames = [(n, link(0x0800, p)) for n, p in V4]
    frames += [(n, link(0x86DD, p)) for n, p in V6]
    frames += [(1, link(0x8100, struct.pack("!HH", 100, 0x0800) +
                        ipv4(17, udp(SRC4, DST4, b"tagged"))))]
    frames += [(2, link(0x0806, ARP)), (3, link(0x88B5, bytes(46)))]
    return frames


def loop(family, body, order="<"):
    return struct.pack(order + "I", family) + body


files = {
    # name: (link type in the file header, frames)
    "en10mb": (1, typed(ether)),
    "sll": (113, typed(sll)),
    "sll2": (276, typed(sll2)),
    # Raw IP: its something else has version 5.
    "raw": (101, V4 + V6 + [(3, bytes([0x50]) + bytes(19))]),
    # These carry one IP version only; GRE and "no next header" are their
    # protocols of neither TCP, UDP nor ICMP.
    "ipv4": (228, V4),
    "ipv6": (229, V6 + [(3, NO_NEXT)]),
    # Families 2 (IPv4) and the BSDs' 24, 28, 30 (IPv6), in either byte
    # order; 7 is no IP.
    "null": (0, [(n, loop(2, p)) for n, p in V4] +
             [(n, loop(24, p)) for n, p in V6] +
             [(1, loop(28, NO_NEXT, ">")), (1, loop(30, V6[0][1], ">")),
              (3, loop(7, bytes(20)))]),
}
for name, (linktype, frames) in files.items():
    with open("%s/%s.pcap" % (out, name), "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535,
                            linktype))
        t = 0
        for n, frame in frames:
            for _ in range(n):
                t += 1
                f.write(struct.pack("<IIII", 1700000000 + t, 0, len(frame),
                                    len(frame)))
                f.write(frame)
PY

# tshark_counts FILE: how many frames of FILE match each filter of
# FILTERS, in one pass of tshark over it (its io,stat tap counts each
# filter's matches over the whole file, interval 0), kept in TS for
# tshark_count FILE FILTER.  tshark must exit 0: a filter it refuses (a
# field renamed in another version) would otherwise count 0 frames, and
# pass wherever the counter has 0 too.
FILTERS=(frame ip ipv6 arp tcp udp "icmp or icmpv6" vlan "sll.pkttype == 4")
declare -A TS
tshark_counts()
{
	local spec f i=0 n

	spec=$(IFS=,; echo "${FILTERS[*]}")
	tshark -q -n -r "$1" -z "io,stat,0,$spec" \
	    >"$TMP/tshark.out" 2>"$TMP/tshark.err" ||
	    fail "tshark -r $1 -z 'io,stat,0,$spec' failed: $(cat "$TMP/tshark.err")"
	# The one row of the whole file: a Frames and a Bytes column a filter.
	n=$(grep -c '<>' "$TMP/tshark.out" || true)
	[ "$n" = 1 ] || fail "tshark -r $1: $n rows of io,stat, not 1:" \
	    "$(cat "$TMP/tshark.out")"
	TS=()
	for f in $(awk -F'|' '/<>/ { for (i = 3; i < NF; i += 2) print $i + 0 }' \
	    "$TMP/tshark.out"); do
		TS[${FILTERS[i]}]=$f
		i=$((i + 1))
	done
	[ "$i" = "${#FILTERS[@]}" ] || fail "tshark -r $1: $i counts of io,stat," \
	    "not ${#FILTERS[@]}: $(cat "$TMP/tshark.out")"
	TS_FILE=$1
}

# tshark FILE FILTER: how many frames of FILE match FILTER, of FILTERS.
tshark_count()
{
	[ "$1" = "$TS_FILE" ] && [ -n "${TS[$2]+set}" ] ||
	    fail "tshark_count $1 '$2': not counted by tshark_counts"
	echo "${TS[$2]}"
}

# counter FIELD: counter.FIELD summed over the workers of $TMP/out.json.
counter()
{
	local v

	v=$(jq -r "[.captures[0].workers[].plugins.counter.$1] | add" \
	    "$TMP/out.json")
	[[ "$v" =~ ^[0-9]+$ ]] || fail "$name: counter.$1 is \"$v\""
	echo "$v"
}

same()
{
	[ "$2" = "$3" ] || fail "$name: counter.$1 = $2, tshark says $3"
	echo "ok: $name: counter.$1 = $2"
}

for name in en10mb sll sll2 raw ipv4 ipv6 null; do
	pcap=$TMP/$name.pcap
	rc=0
	"$RINGFAN" -c "$TMP/c.yaml" -r "$pcap" >"$TMP/out.json" \
	    2>"$TMP/err" || rc=$?
	[ "$rc" -eq 0 ] ||
	    fail "$name: ringfan -r exited $rc: $(cat "$TMP/err")"
	tshark_counts "$pcap"
	frames=$(tshark_count "$pcap" frame)
	[ "$frames" -gt 0 ] || fail "$name: tshark reads no frame"
	ip=$(tshark_count "$pcap" ip)
	ip6=$(tshark_count "$pcap" ipv6)
	arp=$(tshark_count "$pcap" arp)
	same ethernet "$(counter ethernet)" "$frames"
	same ipv4 "$(counter ipv4)" "$ip"
	same ipv6 "$(counter ipv6)" "$ip6"
	same arp "$(counter arp)" "$arp"
	same other "$(counter other)" $((frames - ip - ip6 - arp))
	same tcp "$(counter tcp)" "$(tshark_count "$pcap" tcp)"
	same udp "$(counter udp)" "$(tshark_count "$pcap" udp)"
	same icmp "$(counter icmp)" "$(tshark_count "$pcap" "icmp or icmpv6")"
	same vlan "$(counter vlan)" "$(tshark_count "$pcap" vlan)"
	out=$(jq -r '[.captures[0].workers[].plugins.ctxprobe.outgoing] | add' \
	    "$TMP/out.json")
	want=$(tshark_count "$pcap" "sll.pkttype == 4")
	[ "$out" = "$want" ] ||
	    fail "$name: $out frames of pkttype PACKET_OUTGOING, tshark says $want"
	echo "ok: $name: $out frames of pkttype PACKET_OUTGOING"
	# The view's last 4 bytes, padding once, are filled: 0 for a minor to come.
	out=$(jq -r '[.captures[0].workers[].plugins.ctxprobe.reserved] | add' \
	    "$TMP/out.json")
	[ "$out" = 0 ] || fail "$name: $out frames with reserved not 0"
done
echo "PASS"
