/* The stop summary of framework/summary.c, from fixed stats documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "summary.h"

/* The line of a document given as JSON text. */
static void
expect_line(const char *text, const char *want)
{
	json_error_t jerr;
	json_t *doc;
	char line[160];
	int n;

	doc = json_loads(text, 0, &jerr);
	if (doc == NULL)
		fail_msg("bad test document: %s", jerr.text);
	n = stats_summary(doc, line, sizeof(line));
	assert_string_equal(line, want);
	assert_int_equal(n, (int)strlen(want));
	json_decref(doc);
}

/* Every capture counts; the share is of the frames the kernel took. */
static void
test_two_captures(void **state)
{
	(void)state;
	expect_line("{\"uptime_s\": 3.5, \"captures\": ["
	    "{\"name\": \"a\", \"totals\": {\"packets\": 990,"
	    " \"kernel_packets\": 1000, \"kernel_drops\": 8,"
	    " \"quarantined\": 2}},"
	    "{\"name\": \"b\", \"totals\": {\"packets\": 3000,"
	    " \"kernel_packets\": 3000, \"kernel_drops\": 0,"
	    " \"quarantined\": 0}}]}",
	    "4000 frames, 8 dropped by the kernel (0.20%), 2 quarantined");
}

/* Nothing seen: no division by zero, and one frame is one frame. */
static void
test_none_and_one(void **state)
{
	(void)state;
	expect_line("{\"captures\": [{\"totals\": {\"packets\": 0,"
	    " \"kernel_packets\": 0, \"kernel_drops\": 0,"
	    " \"quarantined\": 0}}]}",
	    "0 frames, 0 dropped by the kernel (0.00%), 0 quarantined");
	expect_line("{\"captures\": [{\"totals\": {\"packets\": 0,"
	    " \"kernel_packets\": 1, \"kernel_drops\": 1,"
	    " \"quarantined\": 0}}]}",
	    "1 frame, 1 dropped by the kernel (100.00%), 0 quarantined");
}

/* A document without captures or totals sums to nothing, never a crash. */
static void
test_missing(void **state)
{
	(void)state;
	expect_line("{}",
	    "0 frames, 0 dropped by the kernel (0.00%), 0 quarantined");
	expect_line("{\"captures\": [{\"name\": \"x\"}, 7]}",
	    "0 frames, 0 dropped by the kernel (0.00%), 0 quarantined");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_captures),
		cmocka_unit_test(test_none_and_one),
		cmocka_unit_test(test_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
