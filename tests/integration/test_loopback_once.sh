#!/bin/bash
# On a loopback device every packet passes twice, once as it is sent
# (PACKET_OUTGOING) and once as it comes back in: tcpdump -i lo shows and
# counts each once, and so must ringfan.  The loopback device here is the
# test's own network namespace's, never the host's: N UDP datagrams sent
# to 127.0.0.1 in it are N frames in the totals, in counter's udp, in
# flowtable's record and in pcapwriter's file.
set -eu
. "$(dirname "$0")/lib.sh"

need_tools python3
# Linux keeps the copies as sent out of a fanout group from 6.2 on; an
# older kernel ignores the flag, and ringfan warns of it instead
# (test_outgoing_old_kernel).
rel=$(uname -r)
maj=${rel%%.*} min=${rel#*.}
min=${min%%[!0-9]*}
[ "$maj" -gt 6 ] || { [ "$maj" -eq 6 ] && [ "${min:-0}" -ge 2 ]; } ||
    rf_skip "Linux $rel ignores PACKET_FANOUT_FLAG_IGNORE_OUTGOING (6.2)"
rf_ns
in_ns ip link set lo up

N=7
mkdir "$RF_TMP/pcap"
{
	rf_config_head
	cat <<-YAML
	  - name: lo
	    interface: lo
	    workers: 1
	    fanout: { group: $RF_GROUP }
	    ring: { block_size: 128KiB, block_count: 4, block_timeout: 10ms }
	    bpf: "udp port 9"
	    pipeline:
	      - plugin: counter
	      - { plugin: flowtable, config: { output: "$RF_TMP/flows.json" } }
	      - { plugin: pcapwriter, config: { directory: "$RF_TMP/pcap" } }
	YAML
} >"$RF_CONF"
RF_IN_NS=1 RF_WORKERS=1
rf_start
rf_expect "old kernel warnings" \
    "$(grep -c "does not keep the frames" "$RF_ERR" || true)" 0

in_ns python3 - "$N" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 4000))
for _ in range(int(sys.argv[1])):
    s.sendto(b"abcd", ("127.0.0.1", 9))
PY
rf_stop

rf_expect "totals.packets" "$(rf_num '.captures[0].totals.packets')" "$N"
rf_expect "totals.kernel_packets" \
    "$(rf_num '.captures[0].totals.kernel_packets')" "$N"
rf_expect "counter udp" "$(rf_sum .plugins.counter.udp)" "$N"
rf_expect "pcap records" "$(rf_pcap_frames "$RF_TMP/pcap"/*.pcap)" "$N"
rf_expect "flow" "$(jq -c '[.src, .sport, .dst, .dport, .fwd.packets,
    .fwd.bytes, .rev.packets]' "$RF_TMP/flows.json")" \
    "[\"127.0.0.1\",4000,\"127.0.0.1\",9,$N,$((N * 46)),0]"
echo "PASS"
