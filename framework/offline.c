/*
 * Offline mode: the first capture's pipeline over a pcap or pcapng file.
 *
 * The pipeline runs in a process that this one forks and waits for
 * (offline_guard.c), as each of the workers of a capture of N workers (1
 * unless `--workers N`), with a stats region of its own, and counts
 * exactly as live workers do, so that its statistics document can be
 * compared with a live run's.  The frames are handed over in place,
 * pointing into the mapped file or libpcap's buffer (pcapmap.h);
 * offline_split.c says which worker gets each, and how time passes.
 *
 * RINGFAN_OFFLINE_LOOPS=N measures the host: the file is read into one
 * buffer first, and the pipelines run over it N times without disk I/O or
 * libpcap in the way.  Each pass is shifted in time past the previous one,
 * so plugins never see time go backwards.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "flowhash.h"
#include "log.h"
#include "master.h"
#include "offline.h"
#include "offline_int.h"
#include "plugin_host.h"
#include "stats.h"
#include "util.h"

/*
 * The shared mapping of the run (offline_shared()) holds the only pointers
 * to much of its heap: a leak checker is told to look there.
 */
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#define OFFLINE_ROOT(p, n)	__lsan_register_root_region((p), (n))
#define OFFLINE_UNROOT(p, n)	__lsan_unregister_root_region((p), (n))
#else
#define OFFLINE_ROOT(p, n)	((void)(p), (void)(n))
#define OFFLINE_UNROOT(p, n)	((void)(p), (void)(n))
#endif

/* Upper bound of RINGFAN_OFFLINE_LOOPS: a typo should not run for days. */
#define OFFLINE_LOOPS_MAX	1000000

/* RINGFAN_OFFLINE_LOOPS: 0 when unset, -1 when malformed. */
static int64_t
offline_loops_env(void)
{
	const char *s = getenv("RINGFAN_OFFLINE_LOOPS");
	uint64_t n;

	if (s == NULL || *s == '\0')
		return 0;
	if (parse_uint(s, &n) != 0 || n == 0 || n > OFFLINE_LOOPS_MAX) {
		fprintf(stderr, "ringfan: RINGFAN_OFFLINE_LOOPS=%s: not a "
		    "number of passes from 1 to %d\n", s, OFFLINE_LOOPS_MAX);
		return -1;
	}
	return (int64_t)n;
}

/*
 * Whether the capture's filter compiles over Ethernet, as `-t` compiles it
 * for a capture without an interface: then a file of another link type it
 * does not compile on is the cause, not the configuration.
 */
static bool
offline_bpf_ethernet(const char *bpf)
{
	struct bpf_program prog;
	pcap_t *p;
	bool ok;

	if ((p = pcap_open_dead(DLT_EN10MB, 262144)) == NULL)
		return false;
	ok = pcap_compile(p, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) == 0;
	if (ok)
		pcap_freecode(&prog);
	pcap_close(p);
	return ok;
}

static int
offline_open(struct offline *ol, const struct cfg *cfg,
    const struct cfg_capture *cap)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	bool file;
	size_t n;
	int dlt;

	errbuf[0] = '\0';
	ol->pcap = pcap_open_offline_with_tstamp_precision(ol->path,
	    PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (ol->pcap == NULL) {
		/*
		 * libpcap names the file itself, "PATH: reason", when fopen()
		 * failed; its other messages do not (a short name may still
		 * be one of their words).
		 */
		n = strlen(ol->path);
		if (strncmp(errbuf, ol->path, n) == 0 &&
		    strncmp(errbuf + n, ": ", 2) == 0)
			fprintf(stderr, "ringfan: %s\n", errbuf);
		else
			fprintf(stderr, "ringfan: %s: %s\n", ol->path, errbuf);
		return EXIT_RUNTIME;
	}
	/*
	 * Any link type libpcap reads.  It reads a pcapng file whose
	 * interfaces share one link type, so every frame has the file's.
	 */
	dlt = pcap_datalink(ol->pcap);
	if (dlt < 0 || dlt > UINT16_MAX) {
		fprintf(stderr, "ringfan: %s: link type %d out of range\n",
		    ol->path, dlt);
		return EXIT_RUNTIME;
	}
	ol->linktype = (uint16_t)dlt;
	ol->pkttype_at = dlt == DLT_LINUX_SLL ? 1 : dlt == DLT_LINUX_SLL2 ? 10 :
	    0;
	/* The pipeline sees what the capture's filter would have let in. */
	if (cap->bpf != NULL) {
		if (pcap_compile(ol->pcap, &ol->prog, cap->bpf, 1,
		    PCAP_NETMASK_UNKNOWN) != 0) {
			/* As for a plugin: one `-t` passes fails on the file. */
			file = offline_bpf_ethernet(cap->bpf);
			fprintf(stderr, "ringfan: %s%s%s:%u:%u: bpf: %s\n",
			    file ? ol->path : "", file ? ": " : "",
			    cfg->path, cap->bpf_pos.line, cap->bpf_pos.col,
			    pcap_geterr(ol->pcap));
			return file ? EXIT_RUNTIME : EXIT_CONFIG;
		}
		ol->has_prog = true;
		if (pcap_setfilter(ol->pcap, &ol->prog) != 0) {
			fprintf(stderr, "ringfan: %s: bpf: %s\n", ol->path,
			    pcap_geterr(ol->pcap));
			return EXIT_RUNTIME;
		}
	}
	pcap_map_open(&ol->map, ol->pcap, ol->has_prog ? &ol->prog : NULL,
	    ol->path);
	return 0;
}

/* Whether the pipeline passes the checks and trial opens of `-t` on env. */
static bool
offline_trial(const struct plugin_env *env, const struct cfg *cfg,
    const struct cfg_capture *cap)
{
	struct plugin_env trial = *env;
	struct pipeline pl;
	char err[PLUGIN_ERR_MAX];
	bool ok;

	trial.flags |= RINGFAN_CTX_CHECK;
	if (pipeline_load(&pl, cfg, cap, NULL, err, sizeof(err)) == -1)
		return false;
	ok = pipeline_check(&pl, &trial, err, sizeof(err)) == RINGFAN_OK;
	pipeline_unload(&pl);
	return ok;
}

/*
 * Whether the file's link type is why a pipeline failed on it: its trial
 * fails with it and passes over Ethernet, as `-t` has it for a capture
 * without an interface.  Then the file is the cause, not the
 * configuration (nor a resource of the moment, which fails both).
 */
static bool
offline_linktype_refused(const struct offline_worker *w,
    const struct cfg *cfg, const struct cfg_capture *cap)
{
	struct plugin_env env = w->env;

	if (env.linktype == DLT_EN10MB || offline_trial(&env, cfg, cap))
		return false;
	env.linktype = DLT_EN10MB;
	return offline_trial(&env, cfg, cap);
}

/*
 * Load, check and open worker k's pipeline as a live worker would, with
 * fresh host memory of its own.  0 or an exit code, the cause printed.
 */
static int
offline_pipeline(struct offline *ol, unsigned k, const struct cfg *cfg,
    const struct cfg_capture *cap)
{
	struct offline_worker *w = &ol->w[k];
	char err[PLUGIN_ERR_MAX];
	int rc;

	w->env = (struct plugin_env){
		.cfg = cfg,
		.cap = cap,
		.worker_id = k,
		.worker_count = ol->nworkers,
		.interface = ol->path,
		.linktype = ol->linktype,
		.snaplen = (uint32_t)pcap_snapshot(ol->pcap),
		.flags = RINGFAN_CTX_OFFLINE,
	};
	w->sw = &ol->shm->workers[k];
	STATS_STORE(&w->sw->pid, (int32_t)getpid());
	STATS_STORE(&w->sw->stage, STATS_STAGE_NONE);
	snprintf(w->tag, sizeof(w->tag), "%s/%u", cap->name, k);
	log_use_tag(w->tag);
	ol->tagged = k;
	if (pipeline_load(&w->pl, cfg, cap, NULL, err, sizeof(err)) == -1) {
		rc = RINGFAN_FAIL;
		goto fail;
	}
	for (size_t i = 0; i < w->pl.nstages && i < cap->npipeline; i++)
		ol->batch[i] = w->pl.stages[i].plugin != NULL &&
		    w->pl.stages[i].plugin->calls.batch != NULL;
	if ((rc = pipeline_check(&w->pl, &w->env, err, sizeof(err))) !=
	    RINGFAN_OK)
		goto fail;
	if ((w->mem = calloc(w->pl.nstages + 1, sizeof(*w->mem))) == NULL) {
		fprintf(stderr, "ringfan: %s\n", strerror(ENOMEM));
		return EXIT_RUNTIME;
	}
	for (size_t i = 0; i < w->pl.nstages; i++) {
		if ((rc = plugin_mem_map(&w->mem[i],
		    &w->pl.stages[i].info, false)) != 0) {
			fprintf(stderr, "ringfan: plugin %s: mmap(%llu bytes of "
			    "host memory): %s\n", w->pl.stages[i].info.step,
			    (unsigned long long)
			    w->pl.stages[i].info.memory_size, strerror(-rc));
			return EXIT_RUNTIME;
		}
	}
	if ((rc = pipeline_open(&w->pl, &w->env, w->sw, w->mem, err,
	    sizeof(err))) == RINGFAN_OK) {
		ol->has_batch = w->pl.has_batch;
		ol->has_prefetch = w->pl.has_prefetch;
		STATS_STORE(&w->sw->state, WORKER_RUNNING);
		return 0;
	}
fail:
	STATS_STORE(&w->sw->state, WORKER_FAILED);
	if (rc == RINGFAN_FAIL && offline_linktype_refused(w, cfg, cap)) {
		fprintf(stderr, "ringfan: %s: %s\n", ol->path, err);
		return EXIT_RUNTIME;
	}
	fprintf(stderr, "ringfan: %s\n", err);
	/* A configuration error is the user's; a missing resource is not. */
	return rc == RINGFAN_RETRY ? EXIT_RUNTIME : EXIT_CONFIG;
}

static int
offline_print(const struct offline *ol, const struct cfg *cfg, FILE *out,
    uint64_t started, uint64_t loops)
{
	const char *const *names[1] = { ol->w[0].pl.names };
	struct stats_view view = {
		.cfg = cfg,
		.shm = ol->shm,
		.plugin_names = names,
	};
	json_t *doc;
	int rc = 0;

	view.uptime_s = (double)(clock_ns(CLOCK_MONOTONIC) - started) / 1e9;
	doc = stats_json(&view);
	if (doc != NULL)
		json_object_set_new(doc, "offline", json_pack("{s:o,s:I,s:I}",
		    "file", stats_text_json(ol->path),
		    "loops", (json_int_t)(loops ? loops : 1),
		    "workers", (json_int_t)ol->nworkers));
	if (doc == NULL || json_dumpf(doc, out, JSON_INDENT(2) |
	    JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15)) == -1 ||
	    fputc('\n', out) == EOF ||
	    fflush(out) == EOF) {
		fprintf(stderr, "ringfan: cannot write the statistics "
		    "document\n");
		rc = EXIT_RUNTIME;
	}
	json_decref(doc);
	return rc;
}

/*
 * Each plugin that ends the run with a problem (its status: records it
 * could not write, a collector it could not reach, or what the plugin
 * watches for) says so on stderr, where it is seen without the document.
 * The exit status stays: a problem may be the plugin's finding.
 */
static void
offline_problems(const struct offline *ol)
{
	char text[STATS_STATUS_MAX];
	const struct offline_worker *w;

	for (unsigned k = 0; k < ol->nworkers; k++) {
		w = &ol->w[k];
		for (size_t i = 0; i < w->pl.nstages &&
		    i < STATS_MAX_STAGES; i++) {
			if (!stats_status_get(w->sw, i, w->pl.names[i], text,
			    sizeof(text)))
				continue;
			line_scrub(text);
			fprintf(stderr, "ringfan: %s: plugin %s ended with a "
			    "problem: %s\n", w->tag, w->pl.names[i], text);
		}
	}
}

/* Every pipeline closed and unloaded, everything of ol freed. */
static void
offline_free(struct offline *ol)
{
	struct offline_worker *w;
	size_t n;

	for (unsigned k = 0; ol->w != NULL && k < ol->nworkers; k++) {
		w = &ol->w[k];
		n = w->pl.nstages;
		ol->tagged = k;
		/* Unloading closes what is open, which marks its memory. */
		pipeline_unload(&w->pl);
		for (size_t i = 0; w->mem != NULL && i < n; i++)
			plugin_mem_unmap(&w->mem[i]);
		free(w->mem);
		free(w->views);
		free(w->ptrs);
	}
	offline_guard_disarm();
	/* The tag may be a worker's, whose memory is unmapped soon. */
	log_set_tag("%s", ol->capture != NULL ? ol->capture : "offline");
	free(ol->frags);
	stats_destroy(ol->shm, ol->nworkers);
	pcap_map_close(&ol->map);
	if (ol->has_prog)
		pcap_freecode(&ol->prog);
	if (ol->pcap != NULL)
		pcap_close(ol->pcap);
	free(ol->recs);
	free(ol->buf);
}

/*
 * The run's struct offline, its workers and the steps' batch flags, in one
 * mapping that the process watching the run shares (offline_guard.c):
 * zeroed, its size in *len.  NULL with errno.
 */
static struct offline *
offline_shared(unsigned nworkers, size_t nsteps, size_t *len)
{
	size_t at_w = (sizeof(struct offline) + 63) & ~(size_t)63;
	size_t at_batch = at_w + nworkers * sizeof(struct offline_worker);
	struct offline *ol;

	*len = at_batch + nsteps;
	ol = mmap(NULL, *len, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ol == MAP_FAILED)
		return NULL;
	OFFLINE_ROOT(ol, *len);
	ol->w = (struct offline_worker *)(void *)((char *)ol + at_w);
	ol->batch = (uint8_t *)ol + at_batch;
	return ol;
}

static void
offline_unshare(struct offline *ol, size_t len)
{
	OFFLINE_UNROOT(ol, len);
	munmap(ol, len);
}

int
offline_run(const struct cfg *cfg, const char *pcap_path, unsigned nworkers,
    FILE *out)
{
	struct offline *ol, was;
	sigset_t mask;
	struct cfg one;
	struct cfg_capture cap;
	uint64_t started = clock_ns(CLOCK_MONOTONIC), handled;
	int64_t loops;
	size_t len;
	pid_t parent, pid;
	int rc, prc;

	if (cfg->ncaptures == 0) {
		fprintf(stderr, "ringfan: %s: no capture to run offline\n",
		    cfg->path);
		return EXIT_CONFIG;
	}
	if (nworkers < 1 || nworkers > OFFLINE_WORKERS_MAX) {
		fprintf(stderr, "ringfan: --workers %u: not from 1 to %d\n",
		    nworkers, OFFLINE_WORKERS_MAX);
		return EXIT_CONFIG;
	}
	if ((loops = offline_loops_env()) < 0)
		return EXIT_CONFIG;

	/*
	 * A copy of the first capture with the workers asked for: plugins
	 * are told they are worker k of N, and the stats document lists the
	 * N workers.
	 */
	cap = cfg->captures[0];
	cap.workers = nworkers;
	one = *cfg;
	one.captures = &cap;
	one.ncaptures = 1;

	if ((ol = offline_shared(nworkers, cap.npipeline, &len)) == NULL) {
		fprintf(stderr, "ringfan: mmap(the run of %u workers): %s\n",
		    nworkers, strerror(errno));
		return EXIT_RUNTIME;
	}
	if ((ol->shm = stats_create(nworkers)) == NULL) {
		fprintf(stderr, "ringfan: mmap(stats of %u workers): %s\n",
		    nworkers, strerror(errno));
		offline_unshare(ol, len);
		return EXIT_RUNTIME;
	}
	ol->path = pcap_path;
	ol->capture = cap.name;
	ol->cap = &cap;
	ol->nworkers = nworkers;
	for (unsigned k = 0; k < nworkers; k++)
		STATS_STORE(&ol->shm->workers[k].stage, STATS_STAGE_NONE);
	/*
	 * The run is a process of its own, which this one waits for: one
	 * that plugin code ends with _exit(), or that SIGKILL ends, is named
	 * as a crash is, with the status it deserves.
	 */
	was = *ol;
	parent = getpid();
	/*
	 * As in a worker: a plugin's write to a pipe or socket whose reader
	 * is gone fails with EPIPE, which the plugin handles, instead of
	 * ending the run without a word.  So does the statistics document's,
	 * which then says it cannot be written, and the watching process's
	 * line.
	 */
	signal(SIGPIPE, SIG_IGN);
	fflush(NULL);
	offline_guard_block(&mask);
	rc = EXIT_RUNTIME;
	if ((pid = fork()) == -1)
		fprintf(stderr, "ringfan: fork (the run): %s\n",
		    strerror(errno));
	else if (pid > 0)
		rc = offline_guard_watch(ol, &was, pid, &mask);
	if (pid != 0) {
		if (pid == -1)
			(void)sigprocmask(SIG_SETMASK, &mask, NULL);
		stats_destroy(was.shm, nworkers);
		offline_unshare(ol, len);
		return rc;
	}
	/* Never without the process that watches it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(EXIT_RUNTIME);

	log_set_tag("%s/0", cap.name);
	offline_guard_arm(ol);
	/* What came since the fork, the guard takes now. */
	(void)sigprocmask(SIG_SETMASK, &mask, NULL);
	if ((rc = offline_open(ol, &one, &cap)) != 0)
		goto out;
	if (nworkers > 1 && cap.fanout.defrag &&
	    (ol->frags = calloc(1, sizeof(*ol->frags))) == NULL) {
		fprintf(stderr, "ringfan: %s\n", strerror(ENOMEM));
		rc = EXIT_RUNTIME;
		goto out;
	}
	for (unsigned k = 0; k < nworkers; k++)
		if ((rc = offline_pipeline(ol, k, &one, &cap)) != 0)
			goto out;

	if (loops > 0)
		rc = offline_loops(ol, (uint64_t)loops);
	else
		rc = offline_stream(ol);

	/* Every plugin ticks at least once, at the time of the last frame. */
	handled = offline_handled(ol);
	offline_tick_all(ol, handled > 0 ? ol->last_ts :
	    clock_ns(CLOCK_REALTIME));
	for (unsigned k = 0; k < nworkers; k++) {
		if (nworkers > 1)
			log_use_tag(ol->w[k].tag);
		ol->tagged = k;
		pipeline_close(&ol->w[k].pl);
		STATS_STORE(&ol->w[k].sw->state, WORKER_STOPPED);
	}
	prc = offline_print(ol, &one, out, started, (uint64_t)loops);
	ol->printed = prc == 0;
	if (rc == 0)
		rc = prc;
	offline_problems(ol);
out:
	offline_free(ol);
	ol->said = 1;
	offline_unshare(ol, len);
	return rc;
}
