#!/bin/bash
# Receive offloads that merge packets (GRO, LRO) make frames of up to
# 64 KiB, which a small block cuts: the sockets' build warns of it, once,
# with the interface, the block and the most it holds whole, where the
# interface has GRO on (ethtool -k, turned on here on the veth) and the
# block holds less than 64 KiB; neither with GRO off, nor with a block of
# 128 KiB.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need_tools ethtool

rf_link
rf_config 1 hash "" "plugin: counter"

# gro_is on|off: what ethtool says of GRO on the capture's interface.
gro_is()
{
	ethtool -k "$RF_CAP" | grep -qx "generic-receive-offload: $1"
}

warned()
{
	grep -cF "merges the packets it receives" "$RF_ERR" || true
}

# run BLOCK GRO WANT: a start and stop with blocks of BLOCK and GRO on or
# off, WANT warnings.
run()
{
	ethtool -K "$RF_CAP" gro "$2"
	gro_is "$2" || rf_fail "ethtool -K $RF_CAP gro $2: not $2"
	rf_set_ring "$1" 16 10ms
	rf_start
	rf_expect "block $1, GRO $2: warnings" "$(warned)" "$3"
	rf_stop
}

run 16KiB on 1
grep -qxF "ringfan[master] warn: capture test: interface $RF_CAP merges the packets it receives (GRO) into frames of up to 64 KiB, but a block of 16384 bytes holds a frame of at most 16254: longer ones are cut to that (raise block_size to 128KiB, or turn it off: ethtool -K $RF_CAP gro off)" \
    "$RF_ERR" || rf_fail "the warning: $(grep -F merges "$RF_ERR")"
echo "ok: $(grep -F merges "$RF_ERR")"
run 16KiB off 0
run 128KiB on 0
echo PASS
