/*
 * The stop summary, from the totals of the statistics document: the line
 * then agrees with the JSON beside it by construction.
 */
#include <stdint.h>
#include <stdio.h>

#include "summary.h"

/* Totals field `name` summed over the captures of doc. */
static uint64_t
summary_total(const json_t *doc, const char *name)
{
	const json_t *cap, *v;
	uint64_t sum = 0;
	size_t i;

	json_array_foreach(json_object_get(doc, "captures"), i, cap) {
		v = json_object_get(json_object_get(cap, "totals"), name);
		if (json_is_integer(v) && json_integer_value(v) > 0)
			sum += (uint64_t)json_integer_value(v);
	}
	return sum;
}

int
stats_summary(const json_t *doc, char *buf, size_t len)
{
	uint64_t frames = summary_total(doc, "kernel_packets");
	uint64_t drops = summary_total(doc, "kernel_drops");

	return snprintf(buf, len, "%llu frame%s, %llu dropped by the kernel "
	    "(%.2f%%), %llu quarantined", (unsigned long long)frames,
	    frames == 1 ? "" : "s", (unsigned long long)drops,
	    frames > 0 ? 100.0 * (double)drops / (double)frames : 0.0,
	    (unsigned long long)summary_total(doc, "quarantined"));
}
