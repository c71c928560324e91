#!/bin/bash
# The statistics document that docs/architecture.md shows, printed at a
# graceful stop, has the fields of the one ringfan prints, in its order:
# one capture, one worker, the counter plugin.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DOC=$(dirname "${BASH_SOURCE[0]}")/../../docs/architecture.md
[ -r "$DOC" ] || rf_fail "no $DOC"
rf_link
rf_config 1 hash "" "plugin: counter"
rf_start
rf_stop

# The first JSON block of the section "Statistics document".
awk '/^## Statistics document$/ { on = 1; next }
    on && /^```json/ { inblock = 1; next }
    inblock && /^```/ { exit }
    inblock' "$DOC" >"$RF_TMP/doc.json"
KEYS='[paths | map(tostring) | join(".")] | join(" ")'
want=$(jq -r "$KEYS" "$RF_STATS")
got=$(jq -r "$KEYS" "$RF_TMP/doc.json") ||
    rf_fail "the example in $DOC is not JSON"
rf_expect "the documented document's fields" "$got" "$want"
echo PASS
