#!/bin/bash
# A plugin that writes past its host memory, beyond the page that holds the
# region's last byte, is killed there (SIGSEGV in its callback, named) and
# changes nothing of another plugin's region, which the kernel tends to map
# right beside it.  Offline (`ringfan -r`): the run ends with the crash;
# live the same write is a crash of the worker, with its quarantine.
#
# It needs no root and no link: nolink.sh.
set -eu
NOLINK_NAME=hostmem-overrun
. "$(dirname "$0")/nolink.sh"

"$RFSEND" -q -w "$TMP/in.pcap" -n 20 -f 2 -s 64

# config FILE OVERRUN: the counter, then hostmem twice, the second
# writing past its region with OVERRUN true.
config()
{
	cat >"$1" <<-YAML
	plugin_path: ["$PLUGIN_PATH_BUILD", "$PLUGIN_PATH_TEST"]
	captures:
	  - name: offline
	    interface: eth0
	    pipeline:
	      - plugin: counter
	      - { plugin: hostmem, config: { size: 4096 } }
	      - { plugin: hostmem, config: { size: 4096, overrun: $2 } }
	YAML
}

# Without the overrun both regions count every frame.
config "$TMP/ok.yaml" false
rc=0
"$RINGFAN" -c "$TMP/ok.yaml" -r "$TMP/in.pcap" >"$TMP/ok.json" \
    2>"$TMP/ok.err" || rc=$?
expect "exit status without the overrun" "$rc" 0
expect "hostmem count" \
    "$(jq -r '.captures[0].workers[0].gauges.hostmem.count' "$TMP/ok.json")" 20
expect "hostmem_2 count" \
    "$(jq -r '.captures[0].workers[0].gauges.hostmem_2.count' "$TMP/ok.json")" 20

config "$TMP/over.yaml" true
rc=0
"$RINGFAN" -c "$TMP/over.yaml" -r "$TMP/in.pcap" >"$TMP/over.json" \
    2>"$TMP/over.err" || rc=$?
expect "exit status with the overrun" "$rc" $((128 + 11))
grep -q "in plugin hostmem_2's packet: killed by signal 11 (Segmentation fault) after 0 frames" \
    "$TMP/over.err" || fail "no line naming the plugin that wrote past its" \
    "region: $(cat "$TMP/over.err") $(head -c 300 "$TMP/over.json")"
echo "PASS"
