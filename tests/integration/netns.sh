# shellcheck shell=bash
#
# Sourced by lib.sh (RF_NETNS=1) and nolink.sh (NOLINK_NETNS=1), which
# tests source at their top level.  netns_enter MODE ARGS...: the test runs
# again, from its start, with ARGS (its own arguments: "$@" where it
# sources), in a network namespace of its own with its loopback up: what
# it runs on 127.0.0.1 (the metrics listener, a collector) and what it
# sends there never leave it, and the namespace goes with the test's last
# process.  MODE `sysfs` adds a mount namespace with sysfs mounted again,
# so that /sys/class/net shows the namespace's interfaces (and hides the
# cgroup file systems); `net` makes the network namespace alone.
#
# The test skips (77) without root, unshare(1) or ip(8), where the kernel
# will not make the namespaces (a container without CAP_SYS_ADMIN), or
# where sysfs cannot be mounted there; it fails when the loopback does not
# come up.  Inside, RF_TEST_NETNS holds the mode, and netns_enter of the
# same mode returns at once.

netns_enter()
{
	local mode=$1 flags=-n
	shift
	[ "${RF_TEST_NETNS-}" != "$mode" ] || return 0
	[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
	command -v unshare >/dev/null 2>&1 ||
	    { echo "SKIP: unshare is not installed"; exit 77; }
	command -v ip >/dev/null 2>&1 ||
	    { echo "SKIP: no ip(8) (iproute2)"; exit 77; }
	[ "$mode" = net ] || flags="-n -m"
	# shellcheck disable=SC2086 # flags: one or two options
	unshare $flags -- true 2>/dev/null || {
		echo "SKIP: cannot make a network namespace (unshare $flags)"
		exit 77
	}
	# shellcheck disable=SC2016,SC2086 # expanded by the inner bash
	RF_TEST_NETNS=$mode exec unshare $flags -- bash -c '
	    if [ "$1" = sysfs ] && ! mount -t sysfs sysfs /sys; then
	        echo "SKIP: cannot mount sysfs in a mount namespace"
	        exit 77
	    fi
	    ip link set lo up ||
	        { echo "FAIL: cannot bring lo up in the namespace" >&2; exit 1; }
	    shift
	    exec bash "$@"' bash "$mode" "$0" "$@"
}
