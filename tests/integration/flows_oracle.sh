# shellcheck shell=bash
#
# Per-flow counts two ways, in one line format, so that a test can diff them:
#
#   VLAN PROTO SRC SPORT DST DPORT FWD_PACKETS FWD_BYTES REV_PACKETS REV_BYTES
#
# VLAN is "-" without a tag, SRC the endpoint that sent the flow's first
# frame, lines sorted.  The flows tshark finds in a pcap are the oracle; the
# flowtable's records are what is checked against it.

# flows_tshark PCAP: the flows of PCAP as tshark dissects them.  tshark
# reassembles IP fragments (two passes, -2) and names, for every fragment,
# the frame that completes its datagram: a fragment belongs to the flow of
# the ports found in that frame.
flows_tshark()
{
	local pcap=$1 fields

	fields=$(mktemp)
	tshark -2 -n -r "$pcap" -T fields -E separator=, -E occurrence=f \
	    -e frame.number -e frame.len -e vlan.id \
	    -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst \
	    -e tcp.srcport -e tcp.dstport -e udp.srcport -e udp.dstport \
	    -e ip.reassembled_in -e ipv6.reassembled.in \
	    >"$fields" 2>/dev/null || {
		rm -f "$fields"
		return 1
	}
	# Pass one keeps the transport of every frame that has one; pass two
	# gives each frame its transport, through reassembled_in if needed.
	awk -F, '
	function port_of(n) { return tp[n] }
	NR == FNR {
		if ($8 != "") tp[$1] = "6 " $8 " " $9
		else if ($10 != "") tp[$1] = "17 " $10 " " $11
		next
	}
	{
		src = $4 != "" ? $4 : $6
		dst = $5 != "" ? $5 : $7
		n = $1
		if (!(n in tp) && $12 != "") n = $12
		if (!(n in tp) && $13 != "") n = $13
		if (src == "" || !(n in tp)) next
		split(tp[n], t, " ")
		vlan = $3 != "" ? $3 : "-"
		a = src " " t[2]
		b = dst " " t[3]
		key = vlan " " t[1] " " (a < b ? a " " b : b " " a)
		if (!(key in first)) {
			first[key] = a
			order[++nkeys] = key
			rev[key] = b
		}
		if (first[key] == a) { fp[key]++; fb[key] += $2 }
		else { rp[key]++; rb[key] += $2 }
	}
	END {
		for (i = 1; i <= nkeys; i++) {
			k = order[i]
			split(k, f, " ")
			printf "%s %s %s %s %d %d %d %d\n", f[1], f[2],
			    first[k], rev[k], fp[k], fb[k], rp[k], rb[k]
		}
	}' "$fields" "$fields" | sort
	rm -f "$fields"
}

# flows_records FILE...: the flowtable's JSON records summed per flow (a
# flow written more than once, after an active timeout, adds up).
flows_records()
{
	cat "$@" | jq -r -s '
	    group_by([.vlan, .proto, .src, .sport, .dst, .dport])[] |
	    "\(.[0].vlan // "-") \(.[0].proto) \(.[0].src) \(.[0].sport) " +
	    "\(.[0].dst) \(.[0].dport) " +
	    "\(map(.fwd.packets) | add) \(map(.fwd.bytes) | add) " +
	    "\(map(.rev.packets) | add) \(map(.rev.bytes) | add)"' | sort
}

# flows_both_ways: lines of flows_tshark or flows_records on stdin, both
# directions of each flow summed (VLAN/PROTO ENDPOINT ENDPOINT PACKETS
# BYTES, the endpoints in order), so that records that split a flow and
# saw its parts start from either end compare with the oracle.
flows_both_ways()
{
	awk '{ a = $3 ":" $4; b = $5 ":" $6
	    k = $1 "/" $2 " " (a < b ? a " " b : b " " a)
	    p[k] += $7 + $9; n[k] += $8 + $10 }
	    END { for (k in p) print k, p[k], n[k] }' | sort
}
