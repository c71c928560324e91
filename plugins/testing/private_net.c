/* The network namespace of a test that talks over the loopback. */
#include <net/if.h>

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "private_net.h"

bool
private_net(void)
{
	struct ifreq ifr;
	int fd;

	if (geteuid() != 0 || unshare(CLONE_NEWNET) == -1)
		return false;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1 ||
	    ioctl(fd, SIOCGIFFLAGS, &ifr) == -1) {
		fprintf(stderr, "loopback of the test's network namespace: "
		    "%s\n", strerror(errno));
		exit(1);
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) == -1) {
		fprintf(stderr, "loopback of the test's network namespace: "
		    "up: %s\n", strerror(errno));
		exit(1);
	}
	close(fd);
	return true;
}
