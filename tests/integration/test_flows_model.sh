#!/bin/bash
# flowtable's records, exactly, against the model in flows_model.py (what
# docs/plugins.md says of timeouts, TCP ends, eviction and directions),
# over files of TCP and UDP flows in time order, IPv4 and IPv6, some
# VLAN-tagged: through `ringfan -r`, and split over 3 workers, which gives
# the same records but for `worker`.  Each seed has its own timeouts and
# table size; the idle and active timeouts often run out between two
# frames, so that a record's reason must not hang on when it was looked at.
#
# It needs no root and no link: nolink.sh.
set -eu
NOLINK_NAME=flows_model
. "$(dirname "$0")/nolink.sh"
need_tools python3
MODEL="$(dirname "$0")/flows_model.py"

# records: the records in $TMP/out, without worker, one a line, sorted.
records()
{
	python3 -c '
import glob, json, sys
for p in glob.glob(sys.argv[1] + "/f-*.json"):
    for line in open(p):
        r = json.loads(line)
        del r["worker"]
        print(json.dumps(r, sort_keys=True))' "$TMP/out" | sort
}

for seed in $(seq 1 12); do
	idle=$(((seed % 3 + 1) * 1000))
	active=$(((seed % 4 + 2) * 1000))
	linger=$(((seed % 2 + 1) * 300))
	max_flows=$((seed % 4 == 0 ? 2 : 65536))
	python3 "$MODEL" "$seed" "${idle}000000" "${active}000000" \
	    "${linger}000000" "$max_flows" "$TMP/f.pcap" | sort >"$TMP/want"
	cat >"$TMP/c.yaml" <<-YAML
	plugin_path: ["$PLUGIN_PATH_BUILD/flowtable"]
	captures:
	  - name: model
	    interface: eth0
	    pipeline:
	      - plugin: flowtable
	        config:
	          output: "$TMP/out/f-{worker}.json"
	          idle_timeout: ${idle}ms
	          active_timeout: ${active}ms
	          linger: ${linger}ms
	          max_flows: $max_flows
	YAML
	# A table of 2 flows a worker evicts by what each worker sees.
	for workers in 1 $([ "$max_flows" -eq 2 ] || echo 3); do
		rm -rf "$TMP/out"
		mkdir "$TMP/out"
		"$RINGFAN" -c "$TMP/c.yaml" -r "$TMP/f.pcap" \
		    --workers "$workers" >/dev/null 2>"$TMP/err" ||
		    fail "seed $seed: ringfan -r exited $?: $(cat "$TMP/err")"
		records >"$TMP/got"
		diff "$TMP/want" "$TMP/got" >&2 ||
		    fail "seed $seed, $workers workers: records differ" \
		    "from the model (< model, > ringfan)"
		echo "ok: seed $seed, $workers workers:" \
		    "$(wc -l <"$TMP/want") records as the model's"
	done
done
