#!/bin/bash
# ringfan -c FILE -r PCAP: the first capture's pipeline over a file.  Known
# frames written by rfsend -w must come out exactly in the statistics:
# packets, bytes and every counter of the counter plugin.  A missing file
# and a file of another link type exit 2 naming the file; pcapng and the
# capture's BPF filter work as on the wire.
#
# It needs no root and no link: nolink.sh, not lib.sh (which makes one).
set -eu
NOLINK_NAME=offline
. "$(dirname "$0")/nolink.sh"

# config FILE [BPF]: one capture with the counter plugin.
config()
{
	{
		cat <<-YAML
		plugin_path: ["$PLUGIN_PATH_BUILD"]
		captures:
		  - name: offline
		    interface: eth0
		    workers: 4
		    pipeline:
		      - plugin: counter
		YAML
		[ -z "${2:-}" ] || echo "    bpf: \"$2\""
	} >"$1"
}

# run CONF PCAP: ringfan -r, which must exit 0; its JSON into $TMP/out.json.
run()
{
	local rc=0

	"$RINGFAN" -c "$1" -r "$2" >"$TMP/out.json" 2>"$TMP/err" || rc=$?
	[ "$rc" -eq 0 ] || fail "ringfan -r $2 exited $rc: $(cat "$TMP/err")"
	json_is "$TMP/out.json" 'type == "object"' ||
	    fail "no JSON document: $(head -c 300 "$TMP/out.json")"
}

num()
{
	local v

	v=$(jq -r "$1" "$TMP/out.json")
	[[ "$v" =~ ^[0-9]+$ ]] || fail "$1 is \"$v\", not a number"
	echo "$v"
}

# le16/le32 VALUE: little-endian bytes for hand-made files.
le16()
{
	printf "\\x$(printf %02x $(($1 & 255)))\\x$(printf %02x $(($1 >> 8 & 255)))"
}

le32()
{
	le16 $(($1 & 65535))
	le16 $(($1 >> 16 & 65535))
}

config "$TMP/c.yaml"

# One file per frame type, each with its own count and size, then one file
# of them all: classic pcap files of the same link type concatenate once
# the later ones lose their 24-byte file header.
types=(udp tcp icmp arp udp6 vlan other)
counts=(5 7 3 4 6 2 9)
sizes=(64 80 98 60 90 70 60)
total=0
bytes=0
for i in "${!types[@]}"; do
	"$RFSEND" -q -w "$TMP/${types[i]}.pcap" -t "${types[i]}" \
	    -n "${counts[i]}" -s "${sizes[i]}" -f 3 ||
	    fail "rfsend -w ${types[i]} failed"
	total=$((total + counts[i]))
	bytes=$((bytes + counts[i] * sizes[i]))
	if [ "$i" -eq 0 ]; then
		cp "$TMP/${types[i]}.pcap" "$TMP/all.pcap"
	else
		tail -c +25 "$TMP/${types[i]}.pcap" >>"$TMP/all.pcap"
	fi
done

# Each type alone: its own counters and no other.
declare -A want
for i in "${!types[@]}"; do
	n=${counts[i]}
	want=([ethernet]=$n [vlan]=0 [arp]=0 [ipv4]=0 [ipv6]=0 [tcp]=0 [udp]=0
	    [icmp]=0 [other]=0)
	case ${types[i]} in
	udp)	want[ipv4]=$n; want[udp]=$n ;;
	tcp)	want[ipv4]=$n; want[tcp]=$n ;;
	icmp)	want[ipv4]=$n; want[icmp]=$n ;;
	arp)	want[arp]=$n ;;
	udp6)	want[ipv6]=$n; want[udp]=$n ;;
	vlan)	want[vlan]=$n; want[ipv4]=$n; want[udp]=$n ;;
	other)	want[other]=$n ;;
	esac
	run "$TMP/c.yaml" "$TMP/${types[i]}.pcap"
	expect "${types[i]}: packets" \
	    "$(num '.captures[0].totals.packets')" "$n"
	expect "${types[i]}: bytes" \
	    "$(num '.captures[0].totals.bytes')" "$((n * sizes[i]))"
	for k in "${!want[@]}"; do
		expect "${types[i]}: counter.$k" \
		    "$(num ".captures[0].workers[0].plugins.counter.$k")" \
		    "${want[$k]}"
	done
done

# All of them in one file.
run "$TMP/c.yaml" "$TMP/all.pcap"
expect "all: workers" "$(num '.captures[0].workers | length')" 1
expect "all: state" "$(jq -r '.captures[0].workers[0].state' \
    "$TMP/out.json")" stopped
expect "all: packets" "$(num '.captures[0].totals.packets')" "$total"
expect "all: worker packets" "$(num '.captures[0].workers[0].packets')" \
    "$total"
expect "all: bytes" "$(num '.captures[0].totals.bytes')" "$bytes"
expect "all: kernel_packets" "$(num '.captures[0].totals.kernel_packets')" 0
c=.captures[0].workers[0].plugins.counter
expect "all: ethernet" "$(num "$c.ethernet")" "$total"
expect "all: udp" "$(num "$c.udp")" $((5 + 6 + 2))
expect "all: tcp" "$(num "$c.tcp")" 7
expect "all: icmp" "$(num "$c.icmp")" 3
expect "all: arp" "$(num "$c.arp")" 4
expect "all: ipv4" "$(num "$c.ipv4")" $((5 + 7 + 3 + 2))
expect "all: ipv6" "$(num "$c.ipv6")" 6
expect "all: vlan" "$(num "$c.vlan")" 2
expect "all: other" "$(num "$c.other")" 9

# The capture's filter applies: "udp" takes untagged UDP over IPv4 and IPv6.
config "$TMP/bpf.yaml" "udp"
run "$TMP/bpf.yaml" "$TMP/all.pcap"
expect "bpf udp: packets" "$(num '.captures[0].totals.packets')" $((5 + 6))

# Several passes from memory: the counts multiply, the rate is reported.
rc=0
RINGFAN_OFFLINE_LOOPS=3 "$RINGFAN" -c "$TMP/c.yaml" -r "$TMP/all.pcap" \
    >"$TMP/out.json" 2>"$TMP/err" || rc=$?
expect "loops: exit status" "$rc" 0
expect "loops: packets" "$(num '.captures[0].totals.packets')" $((3 * total))
expect "loops: udp" "$(num "$c.udp")" $((3 * 13))
grep -q "^offline: $((3 * total)) packets in .* pps$" "$TMP/err" ||
    fail "loops: no rate line on stderr: $(cat "$TMP/err")"
echo "ok: loops: $(cat "$TMP/err")"
rc=0
RINGFAN_OFFLINE_LOOPS=zero "$RINGFAN" -c "$TMP/c.yaml" -r "$TMP/all.pcap" \
    >/dev/null 2>"$TMP/err" || rc=$?
expect "loops=zero: exit status" "$rc" 1

# pcapng, made by hand: a section header, an Ethernet interface, and one
# enhanced packet block holding the first UDP frame (64 bytes at offset 40
# of udp.pcap).
{
	le32 0x0A0D0D0A; le32 28; le32 0x1A2B3C4D; le16 1; le16 0
	le32 0xffffffff; le32 0xffffffff; le32 28
	le32 1; le32 20; le16 1; le16 0; le32 65535; le32 20
	le32 6; le32 96; le32 0; le32 0; le32 1000; le32 64; le32 64
	tail -c +41 "$TMP/udp.pcap" | head -c 64
	le32 96
} >"$TMP/one.pcapng"
run "$TMP/c.yaml" "$TMP/one.pcapng"
expect "pcapng: packets" "$(num '.captures[0].totals.packets')" 1
expect "pcapng: bytes" "$(num '.captures[0].totals.bytes')" 64
expect "pcapng: udp" "$(num "$c.udp")" 1

# A file name that is not UTF-8 is still named in the document, its bad
# bytes as '?', as elsewhere in it.
cp "$TMP/one.pcapng" "$TMP/one"$'\xff'".pcapng"
run "$TMP/c.yaml" "$TMP/one"$'\xff'".pcapng"
expect "name not UTF-8: offline.file" \
    "$(jq -r '.offline.file' "$TMP/out.json")" "$TMP/one?.pcapng"
expect "name not UTF-8: packets" "$(num '.captures[0].totals.packets')" 1

# A missing file: exit 2, naming it.
rc=0
"$RINGFAN" -c "$TMP/c.yaml" -r "$TMP/missing.pcap" >"$TMP/out" \
    2>"$TMP/err" || rc=$?
expect "missing file: exit status" "$rc" 2
grep -q "$TMP/missing.pcap" "$TMP/err" ||
    fail "missing file: the message does not name it: $(cat "$TMP/err")"
echo "ok: missing file: $(cat "$TMP/err")"
[ ! -s "$TMP/out" ] || fail "missing file: something on stdout"

# Files whose names are words of libpcap's own messages, given relative:
# named all the same ("d" is in "dump file", "file" in "unknown file
# format").
mkdir "$TMP/d"
printf 'not a capture file at all\n' >"$TMP/file"
for name in d file; do
	rc=0
	(cd "$TMP" && "$RINGFAN" -c "$TMP/c.yaml" -r "$name") >"$TMP/out" \
	    2>"$TMP/err" || rc=$?
	expect "file named $name: exit status" "$rc" 2
	case "$(cat "$TMP/err")" in
	"ringfan: $name: "*) echo "ok: file named $name: $(cat "$TMP/err")" ;;
	*) fail "file named $name: the message does not name it: \
$(cat "$TMP/err")" ;;
	esac
done
rmdir "$TMP/d"

# A file cut inside its third record: the two before it are handled and
# counted, the error names the file and where, exit 2.
"$RFSEND" -q -w "$TMP/three.pcap" -n 3 -f 1 -s 64
head -c $((24 + 2 * 80 + 50)) "$TMP/three.pcap" >"$TMP/cut.pcap"
rc=0
"$RINGFAN" -c "$TMP/c.yaml" -r "$TMP/cut.pcap" >"$TMP/out.json" \
    2>"$TMP/err" || rc=$?
expect "cut file: exit status" "$rc" 2
expect "cut file: packets" "$(num '.captures[0].totals.packets')" 2
expect "cut file: message" "$(cat "$TMP/err")" "ringfan: $TMP/cut.pcap: \
truncated dump file; tried to read 64 captured bytes, only got 34 (2 \
frames handed to the pipeline before it)"

# Raw IP (LINKTYPE_RAW, 101): one 20-byte IPv4 header.  Read like any
# other link type, the counter seeing the IPv4 packet in it.
{
	le32 0xa1b2c3d4; le16 2; le16 4; le32 0; le32 0; le32 65535; le32 101
	le32 1700000000; le32 0; le32 20; le32 20
	printf '\x45\x00\x00\x14\x00\x00\x00\x00\x40\x11\x00\x00'
	printf '\x0a\x00\x00\x01\x0a\x00\x00\x02'
} >"$TMP/raw.pcap"
run "$TMP/c.yaml" "$TMP/raw.pcap"
expect "raw IP: packets" "$(jq '.captures[0].totals.packets' "$TMP/out.json")" 1
echo "ok: raw IP"

# A link type the counter does not decode (USER0, 147): the configuration
# passes `-t`, so the file is the cause: exit 2, naming it.
{
	le32 0xa1b2c3d4; le16 2; le16 4; le32 0; le32 0; le32 65535; le32 147
	le32 1700000000; le32 0; le32 20; le32 20
	printf '\x45\x00\x00\x14\x00\x00\x00\x00\x40\x11\x00\x00'
	printf '\x0a\x00\x00\x01\x0a\x00\x00\x02'
} >"$TMP/user0.pcap"
"$RINGFAN" -c "$TMP/c.yaml" -t >/dev/null 2>&1 || fail "c.yaml fails -t"
rc=0
"$RINGFAN" -c "$TMP/c.yaml" -r "$TMP/user0.pcap" >/dev/null 2>"$TMP/err" ||
    rc=$?
expect "link type 147: exit status" "$rc" 2
expect "link type 147: message" "$(cat "$TMP/err")" "ringfan: \
$TMP/user0.pcap: plugin counter: link type 147 is not one counter decodes"

# The capture's filter on a file it does not compile for: `ether host`
# passes `-t` (Ethernet), so the raw IP file is the cause, as for a plugin:
# exit 2, the file named before the filter's message.
config "$TMP/ether.yaml" "ether host 00:11:22:33:44:55"
"$RINGFAN" -c "$TMP/ether.yaml" -t >/dev/null 2>&1 ||
    fail "ether.yaml fails -t"
rc=0
"$RINGFAN" -c "$TMP/ether.yaml" -r "$TMP/raw.pcap" >/dev/null 2>"$TMP/err" ||
    rc=$?
expect "bpf on raw IP: exit status" "$rc" 2
expect "bpf on raw IP: message" "$(cat "$TMP/err")" "ringfan: \
$TMP/raw.pcap: $TMP/ether.yaml:8:10: bpf: ethernet addresses supported only \
on ethernet/FDDI/token ring/802.11/ATM LANE/Fibre Channel"
# A filter that compiles for no link type stays the configuration's.
config "$TMP/bad.yaml" "no such thing"
rc=0
"$RINGFAN" -c "$TMP/bad.yaml" -r "$TMP/raw.pcap" >/dev/null 2>"$TMP/err" ||
    rc=$?
expect "bad bpf: exit status" "$rc" 1
grep -q "^ringfan: $TMP/bad.yaml:8:10: bpf: " "$TMP/err" ||
    fail "bad bpf: $(cat "$TMP/err")"

# Not a capture file at all.
echo "hello" >"$TMP/text.pcap"
rc=0
"$RINGFAN" -c "$TMP/c.yaml" -r "$TMP/text.pcap" >/dev/null 2>"$TMP/err" ||
    rc=$?
expect "text file: exit status" "$rc" 2
grep -q "$TMP/text.pcap" "$TMP/err" ||
    fail "text file: the message does not name it: $(cat "$TMP/err")"

# A pipeline longer than the stats keep problems for (16 steps): 200 of a
# test plugin, each frame through every one, no problem read past them.
{
	echo "plugin_path: [\"${PLUGIN_PATH_TEST:?}\"]"
	echo "captures:"
	echo "  - name: long"
	echo "    interface: none"
	echo "    pipeline:"
	for ((i = 0; i < 200; i++)); do
		echo "      - { plugin: slow, config: { delay: 0ms } }"
	done
} >"$TMP/long.yaml"
run "$TMP/long.yaml" "$TMP/raw.pcap"
expect "200 steps: packets" \
    "$(jq '.captures[0].totals.packets' "$TMP/out.json")" 1
expect "200 steps: stderr" "$(cat "$TMP/err")" ""
echo "ok: 200 steps"

# -r belongs with -c: refused before anything is opened (the interface
# named is none there is).
rc=0
"$RINGFAN" -i "rfnone$$" -r "$TMP/all.pcap" >"$TMP/ri.out" 2>"$TMP/ri.err" ||
    rc=$?
expect "-r with -i: exit status" "$rc" 1
expect "-r with -i: stdout" "$(cat "$TMP/ri.out")" ""
expect "-r with -i: the error" "$(head -n 1 "$TMP/ri.err")" \
    "ringfan: -r PCAP goes with -c FILE, without -t or -D"

echo "PASS"
