/*
 * The config parser over arbitrary bytes: it must return 0 or -1 with a
 * message "NAME:LINE:COL: ..." (or "NAME: ...") and leak nothing, whatever
 * it is given.
 *
 * A config it accepts then goes through what a reload does with it
 * (config_diff.c): it differs in nothing from itself; against the built-in
 * config of `ringfan -i eth0` as the one in force, cfg_diff runs over the
 * global keys and the first capture; and once cfg_keep_restart has given
 * it the running config's restart keys, no key of class
 * CFG_RELOAD_RESTART differs any more.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz_driver.h"

static void
fuzz_reload(struct cfg *cfg)
{
	static struct cfg running;
	static bool have_running;
	char err[CFG_ERR_MAX];

	if (!have_running) {
		if (cfg_default(&running, "eth0", err, sizeof(err)) != 0)
			abort();
		have_running = true;
	}
	if (cfg_diff(cfg, cfg, CFG_DIFF_GLOBAL, NULL) != 0)
		abort();
	for (size_t i = 0; i < cfg->ncaptures; i++)
		if (cfg_diff(cfg, cfg, i, NULL) != 0)
			abort();
	(void)cfg_diff(&running, cfg, CFG_DIFF_GLOBAL, NULL);
	if (cfg->ncaptures > 0)
		(void)cfg_diff(&running, cfg, 0, NULL);
	cfg_keep_restart(cfg, &running);
	if (cfg_diff(&running, cfg, CFG_DIFF_GLOBAL, NULL) &
	    CFG_RELOAD_RESTART)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg cfg;
	char err[CFG_ERR_MAX];

	err[0] = '\0';
	if (cfg_load_string(&cfg, "fuzz.yaml", (const char *)data, size, err,
	    sizeof(err)) == 0) {
		fuzz_reload(&cfg);
		cfg_free(&cfg);
		return 0;
	}
	if (strncmp(err, "fuzz.yaml:", 10) != 0)
		abort();	/* an error must name the file */
	return 0;
}
