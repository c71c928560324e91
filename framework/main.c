/* ringfan: flags, configuration, and the hand-over to the master. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "master.h"
#include "ringfan_build.h"

#include <ringfan/plugin.h>

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ringfan -c FILE [-t] [-D]\n"
	    "       ringfan -i IFACE\n"
	    "       ringfan -V | -h\n"
	    "  -c FILE   run the captures configured in FILE, in the foreground\n"
	    "  -i IFACE  run the built-in configuration on IFACE\n"
	    "  -t        check the configuration and exit\n"
	    "  -V        print the version\n"
	    "  -h        this help\n");
}

int
main(int argc, char **argv)
{
	const char *file = NULL, *iface = NULL;
	char err[CFG_ERR_MAX];
	bool check = false;
	struct cfg cfg;
	int ch, rc;

	while ((ch = getopt(argc, argv, "c:i:tDVh")) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 'i':
			iface = optarg;
			break;
		case 't':
			check = true;
			break;
		case 'D':
			fprintf(stderr, "ringfan: -D: daemon mode is not "
			    "available yet\n");
			return EXIT_CONFIG;
		case 'V':
			printf("ringfan %s (plugin ABI %d.%d)\n",
			    RINGFAN_VERSION, RINGFAN_PLUGIN_ABI_MAJOR,
			    RINGFAN_PLUGIN_ABI_MINOR);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_CONFIG;
		}
	}
	if (optind != argc || (file == NULL) == (iface == NULL)) {
		fprintf(stderr, "ringfan: give exactly one of -c FILE and "
		    "-i IFACE\n");
		usage(stderr);
		return EXIT_CONFIG;
	}

	if (file != NULL)
		rc = cfg_load(&cfg, file, err, sizeof(err));
	else
		rc = cfg_default(&cfg, iface, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "ringfan: %s\n", err);
		return EXIT_CONFIG;
	}
	log_init(cfg.log.level, false);
	if (master_check(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "ringfan: %s\n", err);
		cfg_free(&cfg);
		return EXIT_CONFIG;
	}
	if (check) {
		fprintf(stderr, "ringfan: %s: configuration ok\n", cfg.path);
		cfg_free(&cfg);
		return 0;
	}
	rc = master_run(&cfg, true);
	cfg_free(&cfg);
	return rc;
}
