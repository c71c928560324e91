/*
 * The config parser over arbitrary bytes: it must return 0 or -1 with a
 * message "NAME:LINE:COL: ..." (or "NAME: ...") and leak nothing, whatever
 * it is given.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_driver.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg cfg;
	char err[CFG_ERR_MAX];

	err[0] = '\0';
	if (cfg_load_string(&cfg, "fuzz.yaml", (const char *)data, size, err,
	    sizeof(err)) == 0) {
		cfg_free(&cfg);
		return 0;
	}
	if (strncmp(err, "fuzz.yaml:", 10) != 0)
		abort();	/* an error must name the file */
	return 0;
}
