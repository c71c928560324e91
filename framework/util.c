/*
 * The number parsers behind sizes, durations, counts and switches in the
 * config file and in plugin options.  They are strict on purpose: a value
 * that is not exactly one of the documented forms is refused rather than
 * guessed at, so that "1MB" or "10 s" fails loudly instead of meaning
 * something the operator did not intend.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>

#include "util.h"

struct unit {
	const char	*name;
	uint64_t	 mult;
};

static const struct unit size_units[] = {
	{ "",		1 },
	{ "B",		1 },
	{ "KiB",	UINT64_C(1) << 10 },
	{ "MiB",	UINT64_C(1) << 20 },
	{ "GiB",	UINT64_C(1) << 30 },
	{ "TiB",	UINT64_C(1) << 40 },
	{ NULL,		0 },
};

static const struct unit duration_units[] = {
	{ "ms",		UINT64_C(1000000) },
	{ "s",		UINT64_C(1000000000) },
	{ "m",		UINT64_C(60000000000) },
	{ "h",		UINT64_C(3600000000000) },
	{ NULL,		0 },
};

/*
 * Reads the leading decimal digits of s.  Overflow is only remembered, not
 * returned at once, so that a malformed suffix after a huge number still
 * reads as a bad form (-EINVAL) rather than as a range problem.
 */
static int
scan_digits(const char *s, const char **end, uint64_t *out, int *overflow)
{
	uint64_t v;
	unsigned d;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	v = 0;
	*overflow = 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			*overflow = 1;
		else
			v = v * 10 + d;
	}
	*end = s;
	*out = v;
	return 0;
}

static int
parse_with_units(const char *s, const struct unit *units, uint64_t *out)
{
	const struct unit *u;
	const char *end;
	uint64_t v;
	int overflow, rc;

	if (s == NULL)
		return -EINVAL;
	if ((rc = scan_digits(s, &end, &v, &overflow)) != 0)
		return rc;
	for (u = units; u->name != NULL; u++)
		if (strcmp(end, u->name) == 0)
			break;
	if (u->name == NULL)
		return -EINVAL;
	if (overflow || v > UINT64_MAX / u->mult)
		return -ERANGE;
	*out = v * u->mult;
	return 0;
}

int
parse_size(const char *s, uint64_t *out)
{
	return parse_with_units(s, size_units, out);
}

int
parse_duration(const char *s, uint64_t *out_ns)
{
	/* No unit needed for none at all. */
	if (s != NULL && strcmp(s, "0") == 0) {
		*out_ns = 0;
		return 0;
	}
	return parse_with_units(s, duration_units, out_ns);
}

int
parse_uint(const char *s, uint64_t *out)
{
	static const struct unit none[] = { { "", 1 }, { NULL, 0 } };

	return parse_with_units(s, none, out);
}

int
parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };
	size_t i;

	if (s == NULL)
		return -EINVAL;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * Mode 0755 for the directory mkdir just made: the umask took bits off (a
 * umask of 027 would keep the control socket's group out of it).  Through
 * a descriptor that follows no link, not by the path: whoever else may
 * write to the parent can have put a link there since the mkdir, whose
 * target (any file root reaches) would get the mode.  0 or -errno.
 */
static int
mkdirs_mode(const char *dir)
{
	int fd, rc = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return -errno;
	if (fchmod(fd, 0755) == -1)
		rc = -errno;
	close(fd);
	return rc;
}

int
mkdirs_for(const char *path)
{
	char dir[4096], *p;
	struct stat st;
	int rc;

	if (strlcpy(dir, path, sizeof(dir)) >= sizeof(dir))
		return -ENAMETOOLONG;
	for (p = dir + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(dir, 0755) == -1) {
			if (errno != EEXIST)
				return -errno;
			/* What exists there must be a directory. */
			if (stat(dir, &st) == -1)
				return -errno;
			if (!S_ISDIR(st.st_mode))
				return -ENOTDIR;
		} else if ((rc = mkdirs_mode(dir)) != 0)
			return rc;
		*p = '/';
	}
	return 0;
}

const char *
file_kind(unsigned mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "a regular file";
	case S_IFDIR:
		return "a directory";
	case S_IFLNK:
		return "a symbolic link";
	case S_IFSOCK:
		return "a socket";
	case S_IFIFO:
		return "a FIFO";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	}
	return "a file of unknown type";
}

bool
name_valid(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n >= max)
		return false;
	/* Ranges, not islower(): the rule must not follow the locale. */
	for (size_t i = 0; i < n; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') &&
		    !(s[i] >= '0' && s[i] <= '9') && s[i] != '_')
			return false;
	return true;
}

uint64_t
clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* The length of the valid UTF-8 sequence at p, or 0. */
static size_t
utf8_seq(const unsigned char *p)
{
	unsigned char c = p[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;	/* a continuation byte, C0, C1 or F5 and up */
	/* The NUL ends the string: a sequence cut there is not whole. */
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

size_t
utf8_scrub(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t n, bad = 0;

	while (*p != '\0') {
		if ((n = utf8_seq(p)) == 0) {
			*p++ = '?';
			bad++;
		} else
			p += n;
	}
	return bad;
}

size_t
line_scrub(char *s)
{
	size_t bad = utf8_scrub(s);

	for (unsigned char *p = (unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f) {
			*p = '?';
			bad++;
		} else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			/* U+0080 to U+009F, the C1 controls (CSI among them) */
			p[0] = p[1] = '?';
			bad += 2;
			p++;
		}
	return bad;
}

int
spare_open(void)
{
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

int
spare_shed(int *spare, int lfd)
{
	int fd, err;

	if (*spare == -1)
		return -1;
	close(*spare);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	err = errno;
	if (fd != -1)
		close(fd);
	*spare = spare_open();
	if (fd != -1 || err == EINTR || err == ECONNABORTED)
		return 1;
	return err == EAGAIN || err == EWOULDBLOCK ? 0 : -1;
}

void
child_signals(bool term)
{
	sigset_t none;

	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	if (term)
		signal(SIGTERM, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

bool
ifreq_name(struct ifreq *ifr, const char *name)
{
	memset(ifr, 0, sizeof(*ifr));
	return strlcpy(ifr->ifr_name, name, sizeof(ifr->ifr_name)) <
	    sizeof(ifr->ifr_name);
}

int
caps_clear(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 ||
	    syscall(SYS_capset, &hdr, data) == -1)
		return -errno;
	return 0;
}
