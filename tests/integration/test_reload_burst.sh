#!/bin/bash
# Reloads that arrive while a reload is under way are not refused: the
# latest one waits for the current one to end and then reads the file, so
# after a burst of SIGHUPs (and a `ringfanctl reload` in the middle of one)
# the running pipeline is the file's last version, and no frame is lost.
set -eu
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
rf_need_ctl

K=12000
rf_link
rf_config 2 hash "udp port 9" "plugin: counter"
cp "$RF_CONF" "$RF_TMP/base.yaml"
rf_start

# version N of the file: options with count N after counter.
version()
{
	cp "$RF_TMP/base.yaml" "$RF_CONF"
	echo "      - { plugin: options, config: { count: $1 } }" >>"$RF_CONF"
}

rf_send_bg -t udp -n "$K" -f 256 -r 3000 -s 64
rf_wait_flowing 1000
for n in 1 2 3; do
	version "$n"
	kill -HUP "$RF_PID"
	sleep 0.05
done
rf_wait_until 20 "both workers on version 3" rf_ctl_test stats \
    '[.captures[0].workers[].plugins.options.count] == [3, 3]'
rf_expect "status.last_reload_error" \
    "$(rf_ctl_json status .last_reload_error)" null

# A control reload during a SIGHUP's: answered with the queued reload's
# outcome, which reads the file as it is then.
version 4
kill -HUP "$RF_PID"
version 5
rf_expect "reload queued behind a SIGHUP's" "$(rf_ctl_json reload .result)" \
    pipeline
rf_expect "options.count after it" \
    "$(rf_ctl_json stats '[.captures[0].workers[].plugins.options.count] | join(",")')" \
    5,5
rf_expect "workers running" \
    "$(rf_ctl_json workers '[.workers[] | select(.state == "running")] | length')" 2
rf_send_wait
rf_stop

rf_expect_all "$K"
rf_expect "sum of counter.ethernet" "$(rf_sum .plugins.counter.ethernet)" "$K"
rf_expect "sum of restarts" "$(rf_sum .restarts)" 0
echo "PASS"
