#!/bin/bash
# A plugin's file that someone besides root may write, or a directory in
# which they may replace it, lets them choose the code ringfan's workers
# run: `ringfan -t` (as a start and a reload) warns of each, naming the
# file or directory, who may write it and its mode, and of nothing else.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dir=$RF_TMP/plugins
mkdir -m 0755 "$dir"
cp "$PLUGIN_PATH_BUILD/counter/counter.so" "$dir/counter.so"
cat >"$RF_CONF" <<YAML
plugin_path: ["$dir"]
captures:
  - name: a
    interface: eth9
    pipeline: [{ plugin: counter }, { plugin: counter, name: second }]
  - name: b
    interface: eth8
    pipeline: [{ plugin: counter }]
YAML

# check MODE DIRMODE: sets $warn to ringfan -t's warning lines.
check()
{
	chmod "$1" "$dir/counter.so"
	chmod "$2" "$dir"
	"$RINGFAN" -c "$RF_CONF" -t 2>"$RF_TMP/t.err" ||
	    rf_fail "ringfan -t failed: $(cat "$RF_TMP/t.err")"
	warn=$(grep "can be written by" "$RF_TMP/t.err" || true)
}

check 0644 0755
rf_expect "0644 in 0755: warnings" "$warn" ""
check 0666 0755
rf_expect "0666: the file's warning, once" "$warn" \
    "ringfan[master] warn: plugin counter: $dir/counter.so can be written by anyone (mode 0666): they choose the code ringfan runs"
check 0644 0777
rf_expect "a directory of mode 0777" "$warn" \
    "ringfan[master] warn: plugin counter: its directory $dir can be written by anyone (mode 0777): they can put other code in its place"
check 0644 1777
rf_expect "a sticky directory of mode 1777" "$warn" ""
chgrp daemon "$dir/counter.so"
check 0664 0755
rf_expect "0664, group daemon" "$warn" \
    "ringfan[master] warn: plugin counter: $dir/counter.so can be written by group daemon (mode 0664): they choose the code ringfan runs"
chgrp root "$dir/counter.so"
check 0664 0755
rf_expect "0664, group root" "$warn" ""
echo PASS
