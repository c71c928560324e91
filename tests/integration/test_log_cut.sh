#!/bin/bash
# A plugin's log line of 10 KB, with a newline, a tab, an escape, a C1
# control and a byte that is not UTF-8 before its 5120 `é`, stays one line
# of UTF-8: the controls and the stray byte show as `?`, and the message is
# cut at 1023 bytes where a character ends, whatever the step's name.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_tools iconv

rf_link
rf_config 1 hash "udp port 9" \
    "{ plugin: ctxprobe, name: probe_x, config: { log_each: warn, log_nasty: true } }" \
    "{ plugin: ctxprobe, name: probe_xy, config: { log_each: warn, log_nasty: true } }"
rf_start
rf_send -t udp -n 1 -f 1
rf_stop
for step in probe_x probe_xy; do
	head="ringfan[test/0] warn: plugin $step: nl?tab?esc?[31mc1?? bad? oké "
	line=$(LC_ALL=C grep -a -F "plugin $step: " "$RF_ERR")
	[ "${line:0:${#head}}" = "$head" ] ||
	    rf_fail "$step: the line does not start with \"$head\": ${line:0:80}"
	printf '%s\n' "$line" | iconv -f UTF-8 -t UTF-8 >/dev/null 2>&1 ||
	    rf_fail "$step: the line is not UTF-8: ...$(printf '%s' "$line" |
	    tail -c 6 | od -An -tx1)"
	rest=${line:${#head}}
	[ -z "${rest//é/}" ] || rf_fail "$step: more than é after the head"
	msg=$(printf '%s' "${line#ringfan\[test/0\] warn: }" | LC_ALL=C wc -c)
	((msg >= 1022 && msg <= 1023)) ||
	    rf_fail "$step: a message of $msg bytes, not 1022 or 1023"
done
echo "PASS"
