#!/bin/bash
# flowtable's IPFIX export, to a real collector and through its outages.
#
# 1. UDP to nfcapd (Debian's nfdump) on 127.0.0.1: the sensor test's pcap
#    (mkflows.py) is replayed into a live capture, hash fanout over 2
#    workers, defrag off, flowtable writing JSON and IPFIX.  After a
#    graceful stop (every flow written as shutdown) and nfcapd's own stop,
#    `nfdump -r` lists the very flows, per direction, of the JSON records
#    and of tshark's oracle; each worker is an observation domain of its
#    own (the capture's base + worker id).
# 2. UDP, collector down: the exporter notices the refusals (status,
#    ipfix_up 0), records beyond the queue are dropped and counted, the
#    capture loses no frame; nfcapd started again: the status clears and
#    the records of new traffic reach it.  Every record is either sent or
#    dropped.
# 3. TCP (nfcapd 1.7 has no TCP input: ipfix_listen.py counts messages and
#    records): delivered while the listener runs; listener stopped: the
#    exporter sees the close, records wait in the queue (ipfix_queue 50),
#    those beyond it dropped, exactly; one worker killed then: its
#    successor counts the records its queue held as dropped; listener
#    back: the other worker's queued records arrive on a new connection
#    after templates.  Every record is sent or dropped.
set -eu
RF_NETNS=1	# the collectors on a 127.0.0.1 of its own
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/flows_oracle.sh"

[ "$(id -u)" -eq 0 ] || rf_skip "needs root"
need_tools tcpreplay tshark python3 nfcapd nfdump
rf_need_ctl

HELPERS=$(dirname "$0")
. "$(dirname "$0")/free_port.sh"

# flows_nfdump FILE...: nfdump's flows in the oracle's line format.  A
# biflow's reverse counts are nfdump's "out" packets and bytes.
flows_nfdump()
{
	local f

	for f in "$@"; do
		nfdump -q -r "$f" -o csv
	done | awk -F, '
	$1 ~ /^[0-9]/ {
		p = $8 == "TCP" ? 6 : $8 == "UDP" ? 17 : $8 == "ICMP" ? 1 : $8
		v = $26 == 0 ? "-" : $26
		k = v " " p " " $4 " " $6 " " $5 " " $7
		if (!(k in fp)) order[++n] = k
		fp[k] += $12; fb[k] += $13; rp[k] += $14; rb[k] += $15
	}
	END {
		for (i = 1; i <= n; i++) {
			k = order[i]
			printf "%s %d %d %d %d\n", k, fp[k], fb[k], rp[k], rb[k]
		}
	}' | sort
}

# logged_drops URL: the records the log of the run in hand says were
# dropped, by every cause, for the exporter to URL.
logged_drops()
{
	grep -F "ipfix $1: " "$RF_ERR" | sed -nE \
	    's/.*: ([0-9]+) records (refused by the collector|lost on the way .*|dropped while the queue was full|not sent at close|sent but not acknowledged .*|lost with a worker .*), [0-9]+ dropped in all$/\1/p;
	    s/.*: ([0-9]+) records lost with a worker that died before it sent them$/\1/p' |
	    awk '{ n += $1 } END { print n + 0 }'
}

# full_lines URL: the lines saying that a worker's queue is full.
full_lines()
{
	grep -cF "ipfix $1: the queue (ipfix_queue $2) is full: records are dropped until it takes one again" \
	    "$RF_ERR" || true
}

# replay: the pcap once more over the link.
replay()
{
	rf_replay "$RF_TMP/in.pcap" --pps 3000
}

# config PIPELINE-CONFIG: one flowtable with these options.
config()
{
	rf_config 2 hash "" "plugin: flowtable
        config: { $1 }"
	sed -i "s/^\(      group: .*\)/\1\n      defrag: false/" "$RF_CONF"
}

rf_link
python3 "$HELPERS/mkflows.py" "$RF_TMP/in.pcap"
flows_tshark "$RF_TMP/in.pcap" >"$RF_TMP/oracle.flows" ||
    rf_fail "tshark could not read $RF_TMP/in.pcap"
frames=$(tshark -n -r "$RF_TMP/in.pcap" 2>/dev/null | wc -l)
nflows=$(wc -l <"$RF_TMP/oracle.flows")
echo "input: $frames frames, $nflows flows"
[ "$nflows" -gt 100 ] || rf_fail "the oracle found only $nflows flows"

# --- 1. UDP to nfcapd: flow for flow.
nfcapd_start "$RF_TMP/nf1"
mkdir -p "$RF_TMP/json"
config "output: \"$RF_TMP/json/flows-{worker}.json\", idle_timeout: 60s,
          ipfix: \"udp://127.0.0.1:$port\""
rf_start
replay
rf_stop
rf_expect_all "$frames"
rf_expect "records" "$(rf_sum '.plugins.flowtable.records')" "$nflows"
rf_expect "ipfix_records" "$(rf_sum '.plugins.flowtable.ipfix_records')" \
    "$nflows"
rf_expect "ipfix_dropped" "$(rf_sum '.plugins.flowtable.ipfix_dropped')" 0
nfcapd_stop
mapfile -t nffiles < <(find "$RF_TMP/nf1" -name 'nfcapd.*' ! -name '*.current*')
[ "${#nffiles[@]}" -ge 1 ] || rf_fail "nfcapd wrote no file: $(ls "$RF_TMP/nf1")"
flows_nfdump "${nffiles[@]}" >"$RF_TMP/nfdump.flows"
flows_records "$RF_TMP"/json/flows-*.json >"$RF_TMP/json.flows"
diff "$RF_TMP/oracle.flows" "$RF_TMP/json.flows" >"$RF_TMP/diff" ||
    rf_fail "JSON records differ from tshark's flows:" \
    "$(head -c 800 "$RF_TMP/diff")"
diff "$RF_TMP/oracle.flows" "$RF_TMP/nfdump.flows" >"$RF_TMP/diff" ||
    rf_fail "nfdump's flows differ from tshark's flows:" \
    "$(head -c 800 "$RF_TMP/diff")"
echo "ok: nfdump lists the $nflows flows of the JSON records and of tshark"
rf_expect "flows nfdump counts" "$(for f in "${nffiles[@]}"; do
	nfdump -q -r "$f" -o csv; done | grep -c '^[0-9]')" "$nflows"
# The domains: FNV-1a of "test" with the low 8 bits cleared, + worker id.
grep -o "Observation domain [0-9]*" "$RF_TMP/nf1.log" | sort -u \
    >"$RF_TMP/domains"
printf 'Observation domain %s\n' 2949673216 2949673217 >"$RF_TMP/want"
diff -q "$RF_TMP/want" "$RF_TMP/domains" >/dev/null ||
    rf_fail "observation domains: $(tr '\n' ' ' <"$RF_TMP/domains")"
echo "ok: one observation domain per worker, from the capture's name"

# --- 2. UDP, the collector down, then up again.
port=$(free_port udp)
config "idle_timeout: 1s, ipfix: \"udp://127.0.0.1:$port\", ipfix_queue: 16"
rf_start
replay
rf_wait_until 30 "a worker reporting the refused collector" \
    rf_ctl_test stats "[.captures[0].workers[].errors.flowtable // \"\" |
        test(\"^ipfix udp://127.0.0.1:$port: send: Connection refused\")] |
        any"
rf_wait_until 30 "records made of every flow" \
    rf_live_sum_is '.plugins.flowtable.records' "$nflows"
dropped=$(rf_live_sum '.plugins.flowtable.ipfix_dropped')
[ "$dropped" -gt 0 ] || rf_fail "no record dropped with a queue of 16"
echo "ok: collector down: status set, $dropped records dropped"
nfcapd_start "$RF_TMP/nf2" "$port"
# New traffic: once a send goes unrefused, the status clears.
replay
rf_wait_until 60 "both workers exporting again" rf_ctl_test stats \
    '[.captures[0].workers[] | .gauges.flowtable.ipfix_up == 1 and
        (.errors.flowtable // null) == null] | all'
rf_wait_until 30 "records of the second replay" \
    rf_live_sum_is '.plugins.flowtable.records' "$((2 * nflows))"
rf_stop
rf_expect_all "$((2 * frames))"
sent=$(rf_sum '.plugins.flowtable.ipfix_records')
dropped=$(rf_sum '.plugins.flowtable.ipfix_dropped')
rf_expect "records sent or dropped" "$((sent + dropped))" "$((2 * nflows))"
# Every record dropped is in a log line with its cause: the queue's
# full at least once per worker (the first of a run of them), or refused.
rf_expect "records dropped as the log says" \
    "$(logged_drops "udp://127.0.0.1:$port")" "$dropped"
[ "$(full_lines "udp://127.0.0.1:$port" 16)" -ge 1 ] ||
    rf_fail "no log line says the queue of 16 is full"
nfcapd_stop
got=$(find "$RF_TMP/nf2" -name 'nfcapd.*' ! -name '*.current*' \
    -exec nfdump -q -r {} -o csv \; | grep -c '^[0-9]' || true)
[ "$got" -gt 0 ] && [ "$got" -le "$sent" ] ||
    rf_fail "nfcapd got $got flows after its restart, $sent were sent"
echo "ok: collector back: $got flows reached it, no frame lost"

# --- 3. TCP to a listener that goes away and comes back.
port=$(free_port tcp)
python3 "$HELPERS/ipfix_listen.py" "$port" "$RF_TMP/tcp1" &
LPID=$!
BG="$BG $LPID"
rf_wait_until 10 "the TCP listener" test -s "$RF_TMP/tcp1"
config "idle_timeout: 1s, ipfix: \"tcp://127.0.0.1:$port\", ipfix_queue: 50"
rf_start
replay
rf_wait_until 30 "records of every flow sent" \
    rf_live_sum_is '.plugins.flowtable.ipfix_records' "$nflows"
rf_wait_until 10 "the listener counting them" \
    grep -q "records $nflows templates" "$RF_TMP/tcp1"
grep -q " bad 0" "$RF_TMP/tcp1" || rf_fail "listener: $(cat "$RF_TMP/tcp1")"
echo "ok: TCP: $(cat "$RF_TMP/tcp1")"
# Per worker: records so far.
before=$(rf_ctl_json stats '[.captures[0].workers[].plugins.flowtable.records] | join(" ")')
kill -TERM "$LPID"
wait "$LPID" 2>/dev/null || true
rf_wait_until 10 "both workers seeing the listener gone" rf_ctl_test stats \
    '[.captures[0].workers[].gauges.flowtable.ipfix_up == 0] | all'
replay
rf_wait_until 30 "records of the second replay" \
    rf_live_sum_is '.plugins.flowtable.records' "$((2 * nflows))"
after=$(rf_ctl_json stats '[.captures[0].workers[].plugins.flowtable.records] | join(" ")')
# Each worker queues 50 and drops the rest of its new records.
read -r b0 b1 <<<"$before"
read -r a0 a1 <<<"$after"
n0=$((a0 - b0))
n1=$((a1 - b1))
want_drop=$(( (n0 > 50 ? n0 - 50 : 0) + (n1 > 50 ? n1 - 50 : 0) ))
want_queue=$(( (n0 > 50 ? 50 : n0) + (n1 > 50 ? 50 : n1) ))
rf_expect "live ipfix_dropped" \
    "$(rf_live_sum '.plugins.flowtable.ipfix_dropped')" "$want_drop"
rf_expect "live ipfix_queue" \
    "$(rf_live_sum '.gauges.flowtable.ipfix_queue')" "$want_queue"
# Worker 0 killed with its queue full: its records are gone with its heap,
# and its successor counts them as dropped.
q0=$((n0 > 50 ? 50 : n0))
[ "$q0" -gt 0 ] || rf_fail "worker 0 made no record to queue"
pid0=$(rf_ctl_num workers '.workers[0].pid')
kill -KILL "$pid0"
rf_wait_until 10 "worker 0 respawned" rf_ctl_test workers \
    ".workers[0].state == \"running\" and .workers[0].pid != $pid0"
want_drop=$((want_drop + q0))
want_queue=$((want_queue - q0))
rf_wait_until 5 "the successor counting the lost queue" \
    rf_live_sum_is '.plugins.flowtable.ipfix_dropped' "$want_drop"
rf_expect "queue after the kill" \
    "$(rf_live_sum '.gauges.flowtable.ipfix_queue')" "$want_queue"
rf_wait_until 5 "the log line for the $q0 records lost" grep -q \
    "ipfix tcp://127.0.0.1:$port: $q0 records lost with a worker that died before it sent them" \
    "$RF_ERR"
echo "ok: worker 0 killed with $q0 records queued: counted as dropped"
python3 "$HELPERS/ipfix_listen.py" "$port" "$RF_TMP/tcp2" &
LPID=$!
BG="$BG $LPID"
# The back-off doubles from 1 s: a few seconds at most here.
rf_wait_until 30 "the queued records delivered" \
    grep -q "records $want_queue templates" "$RF_TMP/tcp2"
rf_wait_until 10 "an empty queue" \
    rf_live_sum_is '.gauges.flowtable.ipfix_queue' 0
# Worker 0's successor has nothing to send: it may not have connected.
grep -Eq "connections [12] .* bad 0" "$RF_TMP/tcp2" ||
    rf_fail "listener after the restart: $(cat "$RF_TMP/tcp2")"
echo "ok: TCP: $want_queue queued records delivered after the reconnect," \
    "$want_drop dropped"
rf_stop
rf_expect_all "$((2 * frames))"
rf_expect "ipfix_records" "$(rf_sum '.plugins.flowtable.ipfix_records')" \
    "$((nflows + want_queue))"
rf_expect "ipfix_dropped" "$(rf_sum '.plugins.flowtable.ipfix_dropped')" \
    "$want_drop"
# In the log: each worker's queue full once (worker 0's successor queued
# nothing), worker 1's run of drops ended at its close, and worker 0's
# lost with its heap, its records counted by the successor.
rf_expect "lines of a full queue" "$(full_lines "tcp://127.0.0.1:$port" 50)" \
    "$(( (n0 > 50) + (n1 > 50) ))"
rf_expect "records dropped as the log says" \
    "$(($(logged_drops "tcp://127.0.0.1:$port") + (n0 > 50 ? n0 - 50 : 0)))" \
    "$want_drop"
[ "$(rf_sum '.plugins.flowtable.ipfix_reconnects')" -ge 2 ] ||
    rf_fail "ipfix_reconnects: $(rf_sum '.plugins.flowtable.ipfix_reconnects')"
echo "PASS"
