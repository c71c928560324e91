/*
 * A generation: checking a configuration (the user, the filters, every
 * plugin validated in a child), and building from it everything the
 * workers run on: the sockets in worker order, the fanout groups and their
 * locks, the shared stats, each slot's host memory.  Freeing it again.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <net/if.h>
#include <pcap/dlt.h>

#include "capture.h"
#include "linkwatch.h"
#include "log.h"
#include "master_int.h"
#include "util.h"

int
master_user(const struct cfg *cfg, uid_t *uid, gid_t *gid, char *err,
    size_t errlen)
{
	struct passwd *pw;

	if (cfg->user == NULL)
		return 0;
	errno = 0;
	if ((pw = getpwnam(cfg->user)) == NULL) {
		snprintf(err, errlen, "%s:%u:%u: user \"%s\": %s", cfg->path,
		    cfg->user_pos.line, cfg->user_pos.col, cfg->user,
		    errno != 0 ? strerror(errno) : "no such user");
		line_scrub(err);
		return errno != 0 ? -errno : -ENOENT;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

/* The control socket's group, when one is set, exists. */
static int
master_group(const struct cfg *cfg, char *err, size_t errlen)
{
	if (cfg->control.group == NULL)
		return 0;
	errno = 0;
	if (getgrnam(cfg->control.group) == NULL) {
		snprintf(err, errlen, "%s:%u:%u: control.group \"%s\": %s",
		    cfg->path, cfg->control.group_pos.line,
		    cfg->control.group_pos.col, cfg->control.group,
		    errno != 0 ? strerror(errno) : "no such group");
		line_scrub(err);
		return errno != 0 ? -errno : -ENOENT;
	}
	return 0;
}

/*
 * Each capture's link type; an interface that does not exist is an error
 * only when sockets are to be opened on it (need_iface), otherwise
 * Ethernet is assumed, so that a file can be checked anywhere.
 */
static int
master_linktypes(const struct cfg *cfg, bool need_iface, int **out,
    char *err, size_t errlen)
{
	int *lt;

	if ((lt = calloc(cfg->ncaptures ? cfg->ncaptures : 1,
	    sizeof(*lt))) == NULL) {
		snprintf(err, errlen, "master: %s", strerror(ENOMEM));
		return EXIT_RUNTIME;
	}
	for (size_t c = 0; c < cfg->ncaptures; c++) {
		if (capture_linktype(&cfg->captures[c], &lt[c], err,
		    errlen) == 0)
			continue;
		/* One that may wait has its pipeline checked as if so. */
		if ((need_iface && !cfg->captures[c].wait_for_interface &&
		    !cfg->captures[c].keeps_waiting) ||
		    if_nametoindex(
		    cfg->captures[c].interface) != 0) {
			free(lt);
			return EXIT_RUNTIME;
		}
		lt[c] = DLT_EN10MB;
	}
	*out = lt;
	return 0;
}

void
master_progs_free(struct sock_fprog *progs, size_t n)
{
	for (size_t c = 0; progs != NULL && c < n; c++)
		capture_bpf_free(&progs[c]);
	free(progs);
}

/* Each capture's filter compiled for its link type into *progs. */
static int
master_compile(const struct cfg *cfg, const int *lt, struct sock_fprog **progs,
    char *err, size_t errlen)
{
	*progs = calloc(cfg->ncaptures ? cfg->ncaptures : 1, sizeof(**progs));
	if (*progs == NULL) {
		snprintf(err, errlen, "master: %s", strerror(ENOMEM));
		return EXIT_RUNTIME;
	}
	for (size_t c = 0; c < cfg->ncaptures; c++)
		if (capture_bpf_compile(cfg, &cfg->captures[c], lt[c],
		    &(*progs)[c], err, errlen) != 0) {
			master_progs_free(*progs, cfg->ncaptures);
			*progs = NULL;
			return EXIT_CONFIG;
		}
	return 0;
}

bool
gen_compile_ahead(struct bpfjob *j, const struct cfg *cfg)
{
	char err[256];
	int *lt, rc;

	/* As gen_build will find them; a missing interface it reports. */
	if (master_linktypes(cfg, true, &lt, err, sizeof(err)) != 0)
		return false;
	rc = bpfjob_start(j, cfg, lt);
	free(lt);
	if (rc < 0)
		log_warnx("reload: no child to compile the filters in (%s): "
		    "the master compiles them itself", strerror(-rc));
	else if (rc > 0)
		log_info("reload %s: compiling %zu new filter%s in a child "
		    "(pid %d); the reload goes on when it is done", cfg->path,
		    j->n, j->n == 1 ? "" : "s", (int)j->pid);
	return rc > 0;
}

/*
 * Everything about a configuration that can be known without opening a
 * socket: the user, the filters compiled for each link type (into progs,
 * unless it is NULL), and every plugin checked in a child as the workers'
 * user.  0 or an exit code, the cause in err.
 */
int
master_validate(const struct cfg *cfg, bool need_iface, int **linktypes,
    struct sock_fprog **progs, struct plugin_info ***infos, char *err,
    size_t errlen)
{
	struct plugin_env *envs;
	uid_t uid = 0;
	gid_t gid = 0;
	int rc, *lt = NULL;

	*infos = NULL;
	if (master_user(cfg, &uid, &gid, err, errlen) != 0 ||
	    master_group(cfg, err, errlen) != 0)
		return EXIT_CONFIG;
	if ((rc = master_linktypes(cfg, need_iface, &lt, err, errlen)) != 0)
		return rc;
	if ((envs = calloc(cfg->ncaptures ? cfg->ncaptures : 1,
	    sizeof(*envs))) == NULL) {
		free(lt);
		snprintf(err, errlen, "master: %s", strerror(ENOMEM));
		return EXIT_RUNTIME;
	}
	for (size_t c = 0; c < cfg->ncaptures; c++) {
		envs[c].cfg = cfg;
		envs[c].cap = &cfg->captures[c];
		envs[c].worker_count = cfg->captures[c].workers;
		envs[c].interface = cfg->captures[c].interface;
		envs[c].linktype = lt[c];
		envs[c].snaplen = capture_snaplen(&cfg->captures[c]);
	}
	if (progs != NULL &&
	    (rc = master_compile(cfg, lt, progs, err, errlen)) != 0) {
		free(envs);
		free(lt);
		return rc;
	}
	/*
	 * Only root can become the workers' user; -t by others checks as is.
	 * A check that could not run (no process to run it in, no user or
	 * seccomp filter for it) is the system's refusal, not the
	 * configuration's.
	 */
	rc = pipeline_validate(cfg, envs, cfg->user != NULL && geteuid() == 0,
	    uid, gid, infos, err, errlen);
	rc = rc == 0 ? 0 : rc == -EINVAL ? EXIT_CONFIG : EXIT_RUNTIME;
	free(envs);
	if (rc != 0 || linktypes == NULL)
		free(lt);
	else
		*linktypes = lt;
	if (rc != 0 && progs != NULL) {
		master_progs_free(*progs, cfg->ncaptures);
		*progs = NULL;
	}
	return rc;
}

int
master_check_keep(const struct cfg *cfg, struct master_checked **keep,
    char *err, size_t errlen)
{
	struct master_checked k = { .cfg = cfg };
	int rc;

	if (keep != NULL)
		*keep = NULL;
	if ((rc = master_validate(cfg, false, &k.linktypes, &k.progs,
	    &k.infos, err, errlen)) != 0)
		return rc == EXIT_RUNTIME ? -EAGAIN : -EINVAL;
	/* Without memory to keep it, the start validates again. */
	if (keep == NULL || (*keep = malloc(sizeof(**keep))) == NULL) {
		free(k.linktypes);
		master_progs_free(k.progs, cfg->ncaptures);
		pipeline_info_free(k.infos, cfg->ncaptures);
		return 0;
	}
	**keep = k;
	return 0;
}

int
master_check(const struct cfg *cfg, char *err, size_t errlen)
{
	return master_check_keep(cfg, NULL, err, errlen);
}

void
master_checked_free(struct master_checked *k)
{
	if (k == NULL)
		return;
	free(k->linktypes);
	master_progs_free(k->progs, k->cfg->ncaptures);
	pipeline_info_free(k->infos, k->cfg->ncaptures);
	free(k);
}

/*
 * The pipelines of `checked` for g, if they were validated for the link
 * types g's sockets will have (an interface may have come up since, with
 * another type); else validate them now.  0 or an exit code, err.
 */
static int
gen_validate(struct gen *g, struct master_checked *checked, char *err,
    size_t errlen)
{
	const struct cfg *cfg = g->cfg;
	int rc;

	if (checked == NULL)
		return master_validate(cfg, true, &g->linktypes, &g->progs,
		    &g->infos, err, errlen);
	if ((rc = master_linktypes(cfg, true, &g->linktypes, err, errlen)) != 0)
		return rc;
	if (memcmp(g->linktypes, checked->linktypes, cfg->ncaptures *
	    sizeof(*g->linktypes)) != 0) {
		free(g->linktypes);
		g->linktypes = NULL;
		return master_validate(cfg, true, &g->linktypes, &g->progs,
		    &g->infos, err, errlen);
	}
	g->infos = checked->infos;
	checked->infos = NULL;
	g->progs = checked->progs;
	checked->progs = NULL;
	return 0;
}

const char *
master_slot_name(const struct slot *s, char *buf, size_t len)
{
	snprintf(buf, len, "worker %s/%u", s->wk.cap->name, s->wk.id);
	return buf;
}

/* Point every slot of the generation at its configuration. */
void
gen_bind_slots(struct gen *g, uid_t uid, gid_t gid)
{
	for (unsigned i = 0; i < g->nslots; i++) {
		struct slot *s = &g->slots[i];

		s->wk.cfg = g->cfg;
		s->wk.cap = &g->cfg->captures[s->capture];
		s->wk.info = g->infos[s->capture];
		s->wk.mem = g->mems[i];
		s->wk.linktype = g->linktypes[s->capture];
		s->wk.snaplen = capture_snaplen(s->wk.cap);
		s->wk.drop_privileges = g->cfg->user != NULL;
		s->wk.master_pid = getpid();
		s->wk.uid = uid;
		s->wk.gid = gid;
	}
}

void
gen_mems_free(struct plugin_mem *mems, size_t n)
{
	for (size_t k = 0; mems != NULL && k < n; k++)
		plugin_mem_unmap(&mems[k]);
	free(mems);
}

/* Host memory for one slot of a pipeline as validated; NULL on failure. */
struct plugin_mem *
gen_mems_map(const struct plugin_info *info, size_t n, char *err,
    size_t errlen)
{
	struct plugin_mem *mems;
	int rc;

	if ((mems = calloc(n ? n : 1, sizeof(*mems))) == NULL) {
		snprintf(err, errlen, "master: %s", strerror(ENOMEM));
		return NULL;
	}
	for (size_t k = 0; k < n; k++) {
		if ((rc = plugin_mem_map(&mems[k], &info[k], true)) != 0) {
			snprintf(err, errlen, "plugin %s: mmap(%llu bytes of "
			    "host memory): %s", info[k].step,
			    (unsigned long long)info[k].memory_size,
			    strerror(-rc));
			gen_mems_free(mems, k);
			return NULL;
		}
	}
	return mems;
}

/*
 * The names stats are shown under, for capture c: stats_counter's ids,
 * the step names, then the plugins' own names.
 */
int
gen_names(struct gen *g, size_t c)
{
	size_t n = g->cfg->captures[c].npipeline;
	const char **names;

	if ((names = calloc(n ? 2 * n : 1, sizeof(*names))) == NULL)
		return -ENOMEM;
	for (size_t k = 0; k < n; k++) {
		names[k] = g->infos[c][k].step;
		names[n + k] = g->infos[c][k].name;
	}
	free(g->plugin_names[c]);
	g->plugin_names[c] = names;
	return 0;
}

/* Frees what gen_build built; the sockets are closed, no worker runs. */
void
gen_free(struct gen *g)
{
	size_t nc = g->cfg != NULL ? g->cfg->ncaptures : 0;

	for (unsigned i = 0; g->slots != NULL && i < g->nslots; i++) {
		if (g->slots[i].wk.fd != -1)
			close(g->slots[i].wk.fd);
		if (g->slots[i].next_fd != -1)
			close(g->slots[i].next_fd);
		if (g->mems != NULL)
			gen_mems_free(g->mems[i], g->cfg->captures[
			    g->slots[i].capture].npipeline);
	}
	for (size_t c = 0; g->locks != NULL && c < nc; c++)
		capture_unlock(g->locks[c], g->groups[c]);
	free(g->locks);
	free(g->links);
	for (size_t c = 0; g->plugin_names != NULL && c < nc; c++)
		free(g->plugin_names[c]);
	free(g->plugin_names);
	pipeline_info_free(g->infos, nc);
	master_progs_free(g->progs, nc);
	free(g->linktypes);
	free(g->mems);
	free(g->first_slot);
	free(g->groups);
	free(g->others);
	free(g->slots);
	stats_destroy(g->shm, g->nslots);
	if (g->cfg != NULL) {
		cfg_free(g->cfg);
		free(g->cfg);
	}
	memset(g, 0, sizeof(*g));
}

/*
 * The fanout group a capture of the new generation joins: the configured
 * one, unless a capture of the retiring generation still holds that id,
 * or its sockets that wait for the old workers to drain (linkwatch.c) have
 * it; the kernel would then add the new sockets to the old group.  Nor
 * may another of g's first n captures (but `skip`) have its sockets in
 * it: an id the kernel made for it, which the configured one may equal.
 */
int
gen_group(const struct gen *busy, const struct gen *g, size_t n,
    size_t skip, uint16_t want)
{
	const struct slot *s;

	for (size_t c = 0; busy != NULL && busy->cfg != NULL &&
	    c < busy->cfg->ncaptures; c++) {
		if (busy->groups[c] == want)
			return -1;
		s = &busy->slots[busy->first_slot[c]];
		if (busy->cfg->captures[c].workers > 0 && s->next_fd != -1 &&
		    capture_group(s->next_fd) == want)
			return -1;
	}
	for (size_t k = 0; k < n; k++)
		if (k != skip && g->locks[k] != GEN_GROUP_LATER &&
		    g->groups[k] == want)
			return -1;
	return want;
}

/*
 * Build generation g from g->cfg: load plugins, compile filters, open every
 * socket in worker order.  Returns 0 or an exit code, the cause in err.
 */
int
gen_build(struct gen *g, const struct gen *busy,
    struct master_checked *checked, char *err, size_t errlen)
{
	const struct cfg *cfg = g->cfg;
	struct sock_fprog prog;
	unsigned n = 0;
	uid_t uid = 0;
	gid_t gid = 0;
	int fd, group, rc;

	rc = gen_validate(g, checked, err, errlen);
	master_checked_free(checked);
	if (rc != 0)
		return rc;
	if (master_user(cfg, &uid, &gid, err, errlen) != 0)
		return EXIT_CONFIG;
	g->nslots = cfg_total_workers(cfg);
	g->plugin_names = calloc(cfg->ncaptures, sizeof(*g->plugin_names));
	g->first_slot = calloc(cfg->ncaptures, sizeof(*g->first_slot));
	g->groups = calloc(cfg->ncaptures, sizeof(*g->groups));
	g->others = calloc(cfg->ncaptures ? cfg->ncaptures : 1,
	    sizeof(*g->others));
	g->slots = calloc(g->nslots, sizeof(*g->slots));
	g->mems = calloc(g->nslots, sizeof(*g->mems));
	g->locks = calloc(cfg->ncaptures ? cfg->ncaptures : 1,
	    sizeof(*g->locks));
	if (g->plugin_names == NULL || g->first_slot == NULL ||
	    g->groups == NULL || g->others == NULL || g->slots == NULL ||
	    g->mems == NULL || g->locks == NULL) {
		snprintf(err, errlen, "master: %s", strerror(ENOMEM));
		return EXIT_RUNTIME;
	}
	for (size_t c = 0; c < cfg->ncaptures; c++)
		g->locks[c] = -1;
	for (unsigned i = 0; i < g->nslots; i++)
		g->slots[i].wk.fd = g->slots[i].next_fd = -1;
	for (size_t c = 0; c < cfg->ncaptures; c++)
		if (gen_names(g, c) != 0) {
			snprintf(err, errlen, "master: %s", strerror(ENOMEM));
			return EXIT_RUNTIME;
		}
	g->shm = stats_create(g->nslots);
	if (g->shm == NULL) {
		snprintf(err, errlen, "master: mmap(shared stats of %u workers): "
		    "%s", g->nslots, strerror(errno));
		return EXIT_RUNTIME;
	}
	for (size_t c = 0; c < cfg->ncaptures; c++) {
		const struct cfg_capture *cap = &cfg->captures[c];
		/* Not there (or down): its sockets wait for it, linkwatch.c. */
		bool absent = (cap->wait_for_interface ||
		    cap->keeps_waiting) && !linkwatch_usable(cap->interface);

		/* Compiled as it was validated: the sockets take it. */
		prog = g->progs[c];
		memset(&g->progs[c], 0, sizeof(g->progs[c]));
		g->first_slot[c] = n;
		group = gen_group(busy, g, c, c, cap->fanout.group);
		/*
		 * A configured group is claimed first: joining one that
		 * another ringfan (or its orphans) uses would split the
		 * traffic with it silently.  A kernel-made id is unique.
		 */
		if (group >= 0) {
			g->groups[c] = (uint16_t)group;
			if ((g->locks[c] = capture_lock(cap, group, err,
			    errlen)) == -1) {
				capture_bpf_free(&prog);
				return EXIT_RUNTIME;
			}
		}
		for (unsigned i = 0; i < cap->workers; i++, n++) {
			g->slots[n].capture = (unsigned)c;
			g->mems[n] = gen_mems_map(g->infos[c], cap->npipeline,
			    err, errlen);
			fd = g->mems[n] == NULL ? -1 : absent ? -ENODEV :
			    capture_open(cap, &prog, group, err, errlen);
			if (fd == -1) {
				capture_bpf_free(&prog);
				return EXIT_RUNTIME;
			}
			/* The others join the group the first one made. */
			if (group < 0 && fd >= 0)
				group = capture_group(fd);
			g->slots[n].wk.id = i;
			g->slots[n].wk.fd = fd >= 0 ? fd : -1;
			g->slots[n].wk.cpu = cfg_worker_cpu(cap, i, NULL);
			g->slots[n].wk.sw = &g->shm->workers[n];
		}
		capture_bpf_free(&prog);
		/* No socket made an id: one is taken when it can be. */
		if (group < 0) {
			group = cap->fanout.group;
			g->locks[c] = GEN_GROUP_LATER;
		} else if (g->locks[c] == -1 && (g->locks[c] =
		    capture_lock_made(cap, group, err, errlen)) == -1)
			log_warnx("%s", err);
		g->groups[c] = (uint16_t)group;
		log_info("capture %s: %u worker%s on %s, fanout %s group %d",
		    cap->name, cap->workers, cap->workers == 1 ? "" : "s",
		    cap->interface,
		    cfg_fanout_mode_name(cap->fanout.mode), group);
		if ((fd = g->slots[g->first_slot[c]].wk.fd) >= 0)
			capture_warn(cap, fd);
	}
	master_progs_free(g->progs, cfg->ncaptures);
	g->progs = NULL;
	gen_bind_slots(g, uid, gid);
	return 0;
}

bool
gen_all_exited(const struct gen *g)
{
	for (unsigned i = 0; i < g->nslots; i++)
		if (g->slots[i].pid > 0)
			return false;
	return true;
}
