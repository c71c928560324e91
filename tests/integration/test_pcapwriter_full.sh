#!/bin/bash
# pcapwriter's file numbers across a full disk, live.
#
# The directory is a 256 KiB tmpfs, which four files of 64 KiB fill.  Once
# it is full, the new file of each retry (once a second) is created but its
# header cannot be written: it is removed, and it must not take a sequence
# number, as no file that could not be made does.  When the files are
# deleted and writing resumes, the next file's number follows the highest
# one that ever was on disk: the numbers have no gap.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl
need_tools tcpdump


# pf_seqs: the sequence numbers of the files in the tmpfs, in order.
pf_seqs()
{
	ls "$PW_MNT" | sed -n 's/^test-0-[0-9]\{8\}T[0-9]\{6\}Z-0*\([0-9][0-9]*\)\.pcap$/\1/p' |
	    sort -n | tr '\n' ' ' | sed 's/ $//'
}

rf_tmpfs 256k || rf_skip "cannot mount a tmpfs"
PW_MNT=$RF_MNT
rf_link
rf_config 1 hash "udp port 9" \
    "{ plugin: pcapwriter, config: { directory: \"$PW_MNT\", rotate_size: 64KiB } }"
rf_start
PW_LIVE='.captures[0].workers[0].plugins.pcapwriter'

# 2000 records of 316 bytes: more than twice what fits.  Then 40 frames
# over 4 s: a few retries, each of which fails.
rf_send -t udp -n 2000 -f 4 -s 300 -r 4000
rf_send -t udp -n 40 -f 4 -s 300 -r 10
we=$(rf_ctl_num stats "$PW_LIVE.write_errors")
[ "$we" -ge 3 ] || rf_fail "full disk: write_errors $we, expected retries"
echo "ok: full disk: write_errors $we"
before=$(pf_seqs)
last=${before##* }
echo "ok: files on the full disk: numbers $before"
# The names are whole files, numbered from 1 with no gap.
rf_expect "numbers on the full disk" "$before" "$(seq -s ' ' 1 "$last")"

rm -f "$PW_MNT"/*
# 100 frames over 2 s: a tick lets them try again.
rf_send -t udp -n 100 -f 4 -s 300 -r 50
rf_wait_until 5 "writing works again" rf_ctl_test plugins \
    '.captures[0].plugins[] | select(.name == "pcapwriter") |
     .errors | length == 0'
rf_stop

n=0
for f in "$PW_MNT"/*; do
	c=$(rf_pcap_frames "$f")
	n=$((n + c))
done
[ "$n" -gt 0 ] || rf_fail "no frame written after the disk was emptied"
rf_expect "numbers after the disk was emptied" "$(pf_seqs)" "$((last + 1))"
echo "PASS"
