#!/bin/bash
# flowtable's IPFIX records as real collectors show them, field for field
# against the JSON records of the same run (`ringfan -r` over mkipfix.py's
# pcap: TCP sessions with different flags each way, ECE and CWR, IPv6,
# VLAN, 802.1ad, ICMP and ICMPv6 type and code, GRE):
#
# 1. nfcapd (Debian's nfdump): start and end to the millisecond,
#    addresses, ports (ICMP: type.code), protocol, the forward TCP flags
#    (nfdump reads reverseTcpControlBits as tcpControlBits: the forward
#    ones must win), packets and bytes both ways, VLAN.
# 2. pmacct's nfacctd: the same but the reverse counts,
#    which it does not read; it takes tcpControlBits only in one octet.
#
# It needs no link; root for a network namespace of its own, where the
# collectors listen on 127.0.0.1.
set -eu
NOLINK_NAME=ixfields NOLINK_NETNS=1
. "$(dirname "$0")/nolink.sh"
need_tools nfcapd nfdump nfacctd python3
. "$(dirname "$0")/free_port.sh"
export TZ=UTC

# run PORT: ringfan -r over the pcap, JSON records and IPFIX to PORT.
run()
{
	cat >"$TMP/rf.yaml" <<-YAML
	plugin_path: ["$PLUGIN_PATH_BUILD"]
	captures:
	  - name: fields
	    interface: none
	    pipeline:
	      - plugin: flowtable
	        config:
	          output: "$TMP/flows.json"
	          ipfix: "udp://127.0.0.1:$1"
	YAML
	rm -f "$TMP/flows.json"
	"$RINGFAN" -c "$TMP/rf.yaml" -r "$TMP/in.pcap" >"$TMP/rf.json" \
	    2>"$TMP/rf.err" || fail "ringfan: $(cat "$TMP/rf.err")"
	expect "ipfix_records" "$(jq -r \
	    '.captures[0].workers[0].plugins.flowtable.ipfix_records' \
	    "$TMP/rf.json")" "$NREC"
}

# JSON records as the collectors should show them; jq's helpers first.  jq
# reads numbers as doubles, whose 2^53 cannot hold a stamp in nanoseconds
# (1.7e18: steps of 256 ns, and a stamp on a millisecond can read 1 ms
# low): records() gives the stamps as strings, and ms() cuts their last
# six digits.
records()
{
	sed -E 's/"(first|last)_ns": ([0-9]+)/"\1_ns": "\2"/g' "$TMP/flows.json"
}
JQ_DEFS='
def ms(ns): (ns | .[0:-6] | tonumber);
def stamp(ns): (ms(ns) / 1000 | floor | strftime("%Y-%m-%d %H:%M:%S")) +
    "." + ((ms(ns) % 1000) + 1000 | tostring | .[1:]);
def bits: [("C", 128), ("E", 64), ("U", 32), ("A", 16), ("P", 8),
    ("R", 4), ("S", 2), ("F", 1)] as $f | . as $s |
    reduce range(0; 8) as $i (0;
        if ($s | contains($f[2 * $i])) then . + $f[2 * $i + 1] else . end);
def nfflags: . as $b | [("C", 128), ("E", 64), ("U", 32), ("A", 16),
    ("P", 8), ("R", 4), ("S", 2), ("F", 1)] as $f |
    [range(0; 8) | if ($b / $f[2 * . + 1] | floor) % 2 == 1
        then $f[2 * .] else "." end] | join("");
def icmp: .proto == 1 or .proto == 58;
'

python3 "$(dirname "$0")/mkipfix.py" "$TMP/in.pcap"
NREC=13

# --- 1. nfcapd.
nfcapd_start "$TMP/nf"
run "$port"
expect "JSON records" "$(wc -l <"$TMP/flows.json")" "$NREC"
nfcapd_stop
find "$TMP/nf" -name 'nfcapd.*' -exec nfdump -q -r {} -o \
    "fmt:%ts|%te|%sa|%sp|%da|%dp|%pr|%flg|%ipkt|%ibyt|%opkt|%obyt|%svln" \; |
    awk -F'|' '{ for (i = 1; i <= NF; i++) gsub(/^ +| +$/, "", $i); print }' \
    OFS='|' | sort >"$TMP/nf.txt"
jq -r "$JQ_DEFS"'
    [stamp(.first_ns), stamp(.last_ns), .src, .sport, .dst,
     (if icmp then "\(.dport / 256 | floor).\(.dport % 256)" else .dport
      end),
     ({"1": "ICMP", "6": "TCP", "17": "UDP", "47": "GRE", "58": "ICMP6"}
      [.proto | tostring]),
     (.fwd.tcp_flags | bits | nfflags),
     .fwd.packets, .fwd.bytes, .rev.packets, .rev.bytes, (.vlan // 0)] |
    map(tostring) | join("|")' <(records) | sort >"$TMP/want.txt"
diff "$TMP/want.txt" "$TMP/nf.txt" >"$TMP/diff" ||
    fail "nfdump differs from the JSON records (< JSON, > nfdump):
$(cat "$TMP/diff")"
echo "ok: nfdump shows the $NREC records of the JSON, field for field"

# --- 2. nfacctd.
port=$(free_port udp)
cat >"$TMP/nfacctd.conf" <<-CONF
daemonize: false
nfacctd_ip: 127.0.0.1
nfacctd_port: $port
timestamps_utc: true
timestamps_secs: false
plugins: print[p]
aggregate[p]: vlan, src_host, dst_host, src_port, dst_port, tcpflags, proto, timestamp_start, timestamp_end
print_output[p]: csv
print_output_file[p]: $TMP/pm.csv
print_output_file_append[p]: true
print_refresh_time[p]: 1
CONF
# Its own process group: nfacctd's plugins are processes of their own.
setsid nfacctd -f "$TMP/nfacctd.conf" >"$TMP/nfacctd.log" 2>&1 &
PMPID=$!
BG="$BG $PMPID"
pm_stop()
{
	kill -KILL -- "-$PMPID" 2>/dev/null || true
}
trap 'pm_stop; nolink_cleanup' EXIT
wait_for 10 "nfacctd on $port" grep -q "waiting for NetFlow/IPFIX data" \
    "$TMP/nfacctd.log"
run "$port"
pm_lines()
{
	[ "$(grep -vc '^VLAN' "$TMP/pm.csv" 2>/dev/null)" = "$NREC" ]
}
wait_for 20 "nfacctd writing $NREC flows" pm_lines
pm_stop
grep -v '^VLAN' "$TMP/pm.csv" | sort >"$TMP/pm.txt"
jq -r "$JQ_DEFS"'
    [(.vlan // 0), .src, .dst, .sport, .dport, (.fwd.tcp_flags | bits),
     ({"1": "icmp", "6": "tcp", "17": "udp", "47": "gre",
       "58": "ipv6-icmp"}[.proto | tostring]),
     stamp(.first_ns) + "000", stamp(.last_ns) + "000",
     .fwd.packets, .fwd.bytes] | map(tostring) | join(",")' \
    <(records) | sort >"$TMP/want.txt"
diff "$TMP/want.txt" "$TMP/pm.txt" >"$TMP/diff" ||
    fail "nfacctd differs from the JSON records (< JSON, > nfacctd):
$(cat "$TMP/diff")"
echo "ok: nfacctd shows the $NREC records of the JSON, field for field"
echo "PASS"
