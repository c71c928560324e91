/* The strict number parsers of framework/util.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "util.h"

static void
test_size_units(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(parse_size("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_size("64", &v), 0);
	assert_int_equal(v, 64);
	assert_int_equal(parse_size("100B", &v), 0);
	assert_int_equal(v, 100);
	assert_int_equal(parse_size("0B", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_size("4KiB", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size("1MiB", &v), 0);
	assert_int_equal(v, 1048576);
	assert_int_equal(parse_size("2GiB", &v), 0);
	assert_int_equal(v, UINT64_C(2147483648));
	assert_int_equal(parse_size("3TiB", &v), 0);
	assert_int_equal(v, UINT64_C(3) << 40);
	assert_int_equal(parse_size("007KiB", &v), 0);
	assert_int_equal(v, 7 * 1024);
}

static void
test_size_limits(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(parse_size("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(parse_size("18446744073709551616", &v), -ERANGE);
	assert_int_equal(parse_size("99999999999999999999999B", &v), -ERANGE);
	assert_int_equal(parse_size("16777215TiB", &v), 0);
	assert_true(v == (UINT64_C(16777215) << 40));
	assert_int_equal(parse_size("16777216TiB", &v), -ERANGE);
	assert_int_equal(parse_size("17179869184GiB", &v), -ERANGE);
}

static void
test_size_bad(void **state)
{
	static const char *const bad[] = {
		"", "B", "KiB", "-1", "-1KiB", "+1", " 1", "1 ", "1 KiB",
		"1KB", "1MB", "1kib", "1K", "1k", "1M", "1G", "1.5MiB",
		"0x10", "1MiBB", "1iB", "1PiB", "MiB1", "1,000", "1e3",
		"99999999999999999999999XB",
	};
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 12345;
		assert_int_equal(parse_size(bad[i], &v), -EINVAL);
		assert_int_equal(v, 12345);
	}
	assert_int_equal(parse_size(NULL, &v), -EINVAL);
}

static void
test_duration_units(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(parse_duration("10ms", &v), 0);
	assert_int_equal(v, UINT64_C(10000000));
	assert_int_equal(parse_duration("1s", &v), 0);
	assert_int_equal(v, UINT64_C(1000000000));
	assert_int_equal(parse_duration("5m", &v), 0);
	assert_int_equal(v, UINT64_C(300000000000));
	assert_int_equal(parse_duration("2h", &v), 0);
	assert_int_equal(v, UINT64_C(7200000000000));
	assert_int_equal(parse_duration("0s", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_duration("0ms", &v), 0);
	assert_int_equal(v, 0);
	v = 1;			/* zero alone needs no unit */
	assert_int_equal(parse_duration("0", &v), 0);
	assert_int_equal(v, 0);
}

static void
test_duration_bad(void **state)
{
	static const char *const bad[] = {
		"", "00", "10", "1000", "s", "ms", "-1s", "+1s", "1 s", " 1s",
		"1s ", "1S", "1MS", "1H", "1us", "1ns", "1d", "1sec",
		"1.5s", "1h30m", "1mss", "0x10s",
	};
	uint64_t v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 12345;
		assert_int_equal(parse_duration(bad[i], &v), -EINVAL);
		assert_int_equal(v, 12345);
	}
	assert_int_equal(parse_duration(NULL, &v), -EINVAL);
}

static void
test_duration_overflow(void **state)
{
	uint64_t v;

	(void)state;
	/* UINT64_MAX ns is about 5124095 hours. */
	assert_int_equal(parse_duration("5124095h", &v), 0);
	assert_int_equal(parse_duration("5124096h", &v), -ERANGE);
	assert_int_equal(parse_duration("18446744073709ms", &v), 0);
	assert_int_equal(parse_duration("18446744073710ms", &v), -ERANGE);
	assert_int_equal(parse_duration("99999999999999999999999s", &v),
	    -ERANGE);
}

static void
test_uint(void **state)
{
	static const char *const bad[] = {
		"", "-1", "+1", " 1", "1 ", "1s", "0x10", "1.0", "1e3", "a",
		"1KiB",
	};
	uint64_t v;
	size_t i;

	(void)state;
	assert_int_equal(parse_uint("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_uint("42", &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_uint("0042", &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(parse_uint("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(parse_uint("18446744073709551616", &v), -ERANGE);
	assert_int_equal(parse_uint("184467440737095516150", &v), -ERANGE);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse_uint(bad[i], &v), -EINVAL);
	assert_int_equal(parse_uint(NULL, &v), -EINVAL);
}

static void
test_bool(void **state)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };
	static const char *const bad[] = {
		"", "True", "TRUE", "Yes", "ON", "1", "0", "y", "n", "t",
		"f", " true", "true ", "enable", "null",
	};
	bool b;
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		b = false;
		assert_int_equal(parse_bool(yes[i], &b), 0);
		assert_true(b);
		b = true;
		assert_int_equal(parse_bool(no[i], &b), 0);
		assert_false(b);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse_bool(bad[i], &b), -EINVAL);
	assert_int_equal(parse_bool(NULL, &b), -EINVAL);
}

static void
test_mkdirs_for(void **state)
{
	char base[] = "/tmp/ringfan-test-mkdirs.XXXXXX", path[256], dir[256];
	struct stat st;
	mode_t old;

	(void)state;
	assert_non_null(mkdtemp(base));
	snprintf(path, sizeof(path), "%s/a/b/control.sock", base);
	assert_int_equal(mkdirs_for(path), 0);
	snprintf(dir, sizeof(dir), "%s/a/b", base);
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0755);
	/* The last component is the file's: not made. */
	assert_int_equal(stat(path, &st), -1);
	/* Existing directories are fine. */
	assert_int_equal(mkdirs_for(path), 0);
	/* A file in the way is an error, with its errno. */
	snprintf(path, sizeof(path), "%s/a/b/file", base);
	fclose(fopen(path, "w"));
	snprintf(dir, sizeof(dir), "%s/a/b/file/x.sock", base);
	assert_int_equal(mkdirs_for(dir), -ENOTDIR);
	unlink(path);
	snprintf(dir, sizeof(dir), "%s/a/b", base);
	rmdir(dir);
	/*
	 * 0755 whatever the umask: a control socket's group must reach the
	 * socket through the directories made for it.
	 */
	old = umask(077);
	snprintf(path, sizeof(path), "%s/c/d/control.sock", base);
	assert_int_equal(mkdirs_for(path), 0);
	umask(old);
	snprintf(dir, sizeof(dir), "%s/c/d", base);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/c", base);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/a", base);
	rmdir(dir);
	rmdir(base);
}

/* The 1..max-1 of [a-z0-9_] rule of plugin, counter and capture names. */
static void
test_name_valid(void **state)
{
	(void)state;
	assert_true(name_valid("a", 2));
	assert_true(name_valid("flow_top_10", 32));
	assert_false(name_valid("", 32));
	assert_false(name_valid("ab", 2));	/* max counts the NUL */
	assert_true(name_valid("a", 2));
	assert_false(name_valid("Upper", 32));
	assert_false(name_valid("dash-ed", 32));
	assert_false(name_valid("dot.ted", 32));
	assert_false(name_valid("sp ace", 32));
	assert_false(name_valid("\xe9t\xe9", 32));
}

/* line_scrub: one line of the log, whatever a plugin wrote. */
static void
test_line_scrub(void **state)
{
	static const struct {
		const char	*in, *out;
		size_t		 bad;
	} t[] = {
		{ "plain caf\xc3\xa9", "plain caf\xc3\xa9", 0 },
		{ "a\nringfan: fake", "a?ringfan: fake", 1 },
		{ "\r\t\x1b[31m\x7f", "???[31m?", 4 },
		{ "\xc2\x9b" "31m \xc2\x80\xc2\xa0", "??31m ??\xc2\xa0", 4 },
		{ "\xff\n", "??", 2 },
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		strlcpy(buf, t[i].in, sizeof(buf));
		assert_int_equal(line_scrub(buf), t[i].bad);
		assert_string_equal(buf, t[i].out);
	}
}

/* utf8_scrub: a table, then random bytes against jansson's own check. */
static void
test_utf8_scrub(void **state)
{
	static const struct {
		const char	*in, *out;
		size_t		 bad;
	} t[] = {
		{ "plain", "plain", 0 },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0 },
		{ "\xff x \xfe", "? x ?", 2 },
		{ "cut \xc3", "cut ?", 1 },			/* at the end */
		{ "cut \xe2\x82", "cut ??", 2 },
		{ "lone \x80\xbf", "lone ??", 2 },		/* continuations */
		{ "\xc0\xaf \xc1\xbf", "?? ??", 4 },	/* overlong */
		{ "\xe0\x80\xaf", "???", 3 },			/* overlong */
		{ "\xf0\x80\x80\xaf", "????", 4 },		/* overlong */
		{ "\xed\xa0\x80", "???", 3 },			/* surrogate */
		{ "\xf4\x90\x80\x80", "????", 4 },		/* past U+10FFFF */
		{ "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf", 0 },
		{ "\xc3(", "?(", 1 },
		{ "", "", 0 },
	};
	char buf[64];
	unsigned seed = 1;
	json_t *j;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		strlcpy(buf, t[i].in, sizeof(buf));
		assert_int_equal(utf8_scrub(buf), t[i].bad);
		assert_string_equal(buf, t[i].out);
	}
	/*
	 * Any bytes: the result is a JSON string, and a string jansson takes
	 * as it is comes out unchanged.
	 */
	for (int k = 0; k < 200000; k++) {
		char orig[sizeof(buf)];
		size_t n = (size_t)(rand_r(&seed) % 8) + 1, bad;
		bool valid;

		for (size_t i = 0; i < n; i++) {
			/* Mostly bytes that start or continue sequences. */
			buf[i] = (char)(rand_r(&seed) % 4 == 0 ? 0x20 +
			    rand_r(&seed) % 0x60 : 0x80 + rand_r(&seed) % 0x80);
		}
		buf[n] = '\0';
		memcpy(orig, buf, n + 1);
		j = json_string(buf);
		valid = j != NULL;
		json_decref(j);
		bad = utf8_scrub(buf);
		assert_true(valid == (bad == 0));
		if (valid)
			assert_memory_equal(buf, orig, n + 1);
		assert_non_null(j = json_string(buf));
		json_decref(j);
	}
}

static void
test_clock_ns(void **state)
{
	uint64_t a, b;

	(void)state;
	a = mono_ns();
	b = clock_ns(CLOCK_MONOTONIC);
	assert_true(b >= a);
	/* Realtime is past 2020 in nanoseconds, not in seconds. */
	assert_true(clock_ns(CLOCK_REALTIME) > UINT64_C(1577836800) *
	    1000000000u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_units),
		cmocka_unit_test(test_size_limits),
		cmocka_unit_test(test_size_bad),
		cmocka_unit_test(test_duration_units),
		cmocka_unit_test(test_duration_bad),
		cmocka_unit_test(test_duration_overflow),
		cmocka_unit_test(test_uint),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_mkdirs_for),
		cmocka_unit_test(test_name_valid),
		cmocka_unit_test(test_utf8_scrub),
		cmocka_unit_test(test_line_scrub),
		cmocka_unit_test(test_clock_ns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
