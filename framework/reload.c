/*
 * A pipeline reload and its rolling restart: the new file validated, the
 * changed captures moved to their new pipelines, the workers handed over
 * one at a time, and everything put back when one of them fails on it.
 * A reload asked for meanwhile is queued; one that changes the captures
 * goes to swap.c.  `ringfanctl restart` rides on the same hand-over.
 */
#include <net/if.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "capture.h"
#include "control.h"
#include "linkwatch.h"
#include "log.h"
#include "master_int.h"
#include "util.h"

/*
 * TARGET as an error shows it: at most 64 bytes, cut before a UTF-8
 * sequence it would split, "..." after a cut.
 */
static const char *
restart_shown(const char *target, char *buf, size_t len)
{
	size_t n = strlen(target), cut = 64;

	if (n <= cut || len < cut + 4)
		return target;
	while (cut > 0 && ((unsigned char)target[cut] & 0xc0) == 0x80)
		cut--;
	snprintf(buf, len, "%.*s...", (int)cut, target);
	return buf;
}

/*
 * Why a capture in link state `link` (linkwatch_state()) has no sockets:
 * it waits for its interface to be there, or to come up (a capture that
 * never had sockets, or whose interface came back down, builds them once
 * it is up), or they could not be built.
 */
static const char *
restart_no_sockets(const char *link)
{
	if (link != NULL && strcmp(link, "waiting") == 0)
		return "it waits for its interface";
	if (link != NULL && strcmp(link, "down") == 0)
		return "it waits for its interface to come up";
	return "they could not be built (see the log)";
}

/*
 * Start the workers that TARGET names ("CAPTURE" or "CAPTURE/ID") again:
 * failed or waiting ones at once, running ones one at a time on the same
 * sockets.  Their names go into `names`.  0, or -errno with err.
 */
static int
master_restart(struct master *m, const char *target, json_t *names,
    char *err, size_t errlen)
{
	const char *slash = strchr(target, '/'), *errstr = NULL;
	size_t clen = slash != NULL ? (size_t)(slash - target) :
	    strlen(target), c;
	long long id = -1;
	char name[64], buf[72];
	const char *shown = restart_shown(target, buf, sizeof(buf));

	if (m->stopping) {
		snprintf(err, errlen, "restart %s: the daemon is stopping",
		    shown);
		return -ESHUTDOWN;
	}
	for (c = 0; c < m->g.cfg->ncaptures; c++)
		if (strlen(m->g.cfg->captures[c].name) == clen &&
		    strncmp(m->g.cfg->captures[c].name, target, clen) == 0)
			break;
	if (clen == 0 || c == m->g.cfg->ncaptures) {
		snprintf(err, errlen, "restart %s: no such capture", shown);
		return -ENOENT;
	}
	/* A worker id as `workers` shows it: digits, no sign, no leading 0. */
	if (slash != NULL && (slash[1] == '\0' ||
	    strspn(slash + 1, "0123456789") != strlen(slash + 1) ||
	    (slash[1] == '0' && slash[2] != '\0'))) {
		snprintf(err, errlen, "restart %s: not a worker id (capture %s "
		    "has workers 0 to %u)", shown, m->g.cfg->captures[c].name,
		    m->g.cfg->captures[c].workers - 1);
		return -EINVAL;
	}
	if (slash != NULL && (id = strtonum(slash + 1, 0,
	    (long long)m->g.cfg->captures[c].workers - 1, &errstr),
	    errstr != NULL)) {
		snprintf(err, errlen, "restart %s: capture %s has workers 0 to "
		    "%u", shown, m->g.cfg->captures[c].name,
		    m->g.cfg->captures[c].workers - 1);
		return -ERANGE;
	}
	/*
	 * No socket (its interface gone, there but not yet up, or back but
	 * not built): a worker cannot start; linkwatch.c starts them with
	 * new sockets.
	 */
	for (unsigned i = 0; i < m->g.nslots; i++)
		if (m->g.slots[i].capture == c && (id < 0 ||
		    m->g.slots[i].wk.id == (unsigned)id) &&
		    m->g.slots[i].wk.fd == -1) {
			snprintf(err, errlen, "restart %s: capture %s has no "
			    "sockets: %s", shown, m->g.cfg->captures[c].name,
			    restart_no_sockets(linkwatch_state(m,
			    (unsigned)c)));
			return -EAGAIN;
		}
	if (master_reload_busy(m)) {
		if (master_reload_pending(m) || m->bpf.pid > 0)
			snprintf(err, errlen, "restart %s: a reload is in "
			    "progress", shown);
		else
			snprintf(err, errlen, "restart %s: the restart of %s "
			    "is in progress (its workers are handed over one "
			    "at a time)", shown, m->restarting);
		return -EBUSY;
	}
	for (unsigned i = 0; i < m->g.nslots; i++)
		if (m->g.slots[i].capture == c && (id < 0 ||
		    m->g.slots[i].wk.id == (unsigned)id))
			json_array_append_new(names, json_string(master_slot_name(
			    &m->g.slots[i], name, sizeof(name)) +
			    strlen("worker ")));
	/* The handover list is taken from its end: worker 0 first. */
	m->nhandover = 0;
	for (unsigned i = m->g.nslots; i-- > 0;) {
		struct slot *s = &m->g.slots[i];

		if (s->capture != c || (id >= 0 && s->wk.id != (unsigned)id))
			continue;
		if (s->pid <= 0)
			master_revive(m, s);
		else
			m->handover[m->nhandover++] = i;
	}
	log_info("restart %s: %zu worker%s", target, json_array_size(names),
	    json_array_size(names) == 1 ? "" : "s");
	strlcpy(m->restarting, shown, sizeof(m->restarting));
	master_handover_step(m);
	return 0;
}

void
ctl_cmd_restart(void *ctx, struct ctl_req *rq, const char *arg)
{
	json_t *names = json_array();
	char err[256];

	if (master_restart(ctx, arg, names, err, sizeof(err)) != 0) {
		json_decref(names);
		ctl_reply_error(rq, "%s", err);
		return;
	}
	ctl_reply_json(rq, json_pack("{s:b,s:o}", "ok", 1, "restarted",
	    names));
}

/*
 * Why a reload's client waits (struct ctl_req.wait): for the reload it
 * asked for to be taken by every worker, or for the one queued behind the
 * reload under way to run.
 */
enum { RELOAD_WAIT_TAKEN = 1, RELOAD_WAIT_QUEUED };
/*
 * How long a reload's client may wait: for the workers to take it, and
 * past RELOAD_TAKE_NS for them to go back.
 */
#define RELOAD_TIMEOUT_NS	(120ull * 1000000000u)
#define RELOAD_TIMEOUT_MSG	"reload: no outcome within 120 s; see status"
/* Queued behind another for as long, then waiting as long for its own. */
#define RELOAD_QUEUED_MSG	"reload: the reload under way had no " \
	"outcome within 120 s; see status"

/* What a reload came to, for the clients that wait for it. */
struct reload_outcome {
	struct master	*m;
	const char	*what;		/* NULL: it failed */
	const char	*err;
};

/*
 * Answer rq for a reload that came to o: a file that does not validate at
 * once, a pipeline or capture change when every worker runs it or has
 * been put back (master_reload_answer).
 */
static void
reload_answer(void *arg, struct ctl_req *rq, const char *note)
{
	const struct reload_outcome *o = arg;

	(void)note;
	if (o->what == NULL)
		ctl_reply_error(rq, "%s", o->err);
	else if (master_reload_pending(o->m))
		ctl_defer(rq, RELOAD_WAIT_TAKEN, o->what, RELOAD_TIMEOUT_NS,
		    RELOAD_TIMEOUT_MSG);
	else
		ctl_reply_json(rq, json_pack("{s:b,s:s}", "ok", 1, "result",
		    o->what));
}

/* A parked client's reload has been taken (o->err NULL) or not. */
static void
reload_taken(void *arg, struct ctl_req *rq, const char *what)
{
	const struct reload_outcome *o = arg;

	if (o->err != NULL)
		ctl_reply_error(rq, "%s", o->err);
	else
		ctl_reply_json(rq, json_pack("{s:b,s:s}", "ok", 1, "result",
		    what));
}

void
master_reload_answer(struct master *m, const char *err)
{
	struct reload_outcome o = { .m = m, .err = err };

	ctl_resume(m->ctl, RELOAD_WAIT_TAKEN, reload_taken, &o);
}

void
master_queued_answer(struct master *m, const char *err)
{
	struct reload_outcome o = { .m = m, .err = err };

	ctl_resume(m->ctl, RELOAD_WAIT_QUEUED, reload_answer, &o);
}

/*
 * reload answers once it has taken effect or failed.  Asked while another
 * reload is under way, it waits for that one to end and then reads the
 * file: the latest file always wins, and every client asking meanwhile
 * gets that one reload's outcome.
 */
void
ctl_cmd_reload(void *ctx, struct ctl_req *rq, const char *arg)
{
	struct reload_outcome o = { .m = ctx };
	char err[512];
	int rc;

	(void)arg;
	/* A stop answered the waiting ones already: this one too, now. */
	if (o.m->stopping) {
		o.err = "reload: stopping before it could run";
		reload_answer(&o, rq, NULL);
		return;
	}
	if (master_reload_busy(o.m)) {
		o.m->reload_again = true;
		ctl_defer(rq, RELOAD_WAIT_QUEUED, NULL, RELOAD_TIMEOUT_NS,
		    RELOAD_QUEUED_MSG);
		return;
	}
	if ((rc = master_reload(o.m, &o.what, err, sizeof(err))) ==
	    -EINPROGRESS) {
		ctl_defer(rq, RELOAD_WAIT_QUEUED, NULL, RELOAD_TIMEOUT_NS,
		    RELOAD_QUEUED_MSG);
		return;
	}
	if (rc != 0) {
		log_error("reload failed, configuration unchanged: %s", err);
		o.what = NULL;
		o.err = err;
	}
	reload_answer(&o, rq, NULL);
}

void
master_reload_watch(struct master *m, uint64_t now)
{
	char name[64];

	/* Rolling back too: one it hands over may hang in that open. */
	for (struct slot *s = m->g.slots; s < m->g.slots + m->g.nslots; s++) {
		/* now may be older than a spawn of this very turn. */
		if (s->pid <= 0 || !s->on_new || s->late || s->stall.killed ||
		    now < s->spawned_ns + RELOAD_TAKE_NS)
			continue;
		/*
		 * Not yet in its loop, or told to hand over still in plugin
		 * code as it starts.
		 */
		if (STATS_LOAD(&s->wk.sw->state) != WORKER_STARTING &&
		    !master_slot_opening(s))
			continue;
		log_error("%s (pid %d) has not opened the new pipeline within "
		    "%llu s; killing it", master_slot_name(s, name,
		    sizeof(name)), (int)s->pid, RELOAD_TAKE_NS / 1000000000ull);
		s->late = true;
		kill(s->pid, SIGKILL);
	}
}

/*
 * The process told to hand over makes no progress and does not exit
 * (stuck in a plugin's close, or stopped, with no frame waiting: no
 * stall): it is killed, and the crash path starts its successor.
 */
static void
master_handover_overdue(struct master *m, struct slot *s)
{
	char name[64];

	/*
	 * Inside plugin code as it starts (a closer recovering a large table
	 * in an open) there is no progress to see: the stall watch looks at
	 * it there, and so does RELOAD_TAKE_NS; the grace starts again when
	 * it is out.
	 */
	if (s->pid == m->handing_pid && master_slot_opening(s) &&
	    mono_ns() < s->spawned_ns + RELOAD_TAKE_NS) {
		s->exit.pid = 0;
		return;
	}
	if (m->handing_pid <= 0 || s->pid != m->handing_pid ||
	    !master_exit_overdue(s, mono_ns()))
		return;
	log_warnx("%s (pid %d) made no progress for %llu ms after its "
	    "hand-over: SIGKILL", master_slot_name(s, name, sizeof(name)),
	    (int)s->pid, MASTER_EXIT_GRACE_NS / 1000000u);
	kill(s->pid, SIGKILL);
	m->handing_pid = 0;
}

/*
 * Told to hand over: one running finishes its block, one still starting
 * opens its plugins and exits (worker_main), its ring left as it was.
 */
static void
master_hand_over(struct slot *s)
{
	s->handed_starting = __atomic_exchange_n(&s->wk.sw->state,
	    WORKER_RESTARTING, __ATOMIC_SEQ_CST) == WORKER_STARTING;
	STATS_STORE(&s->wk.sw->stop, WORKER_STOP_HANDOVER);
	kill(s->pid, SIGTERM);
}

/* The reload's rolling restart: one worker at a time, each once running. */
void
master_handover_step(struct master *m)
{
	struct slot *s;
	uint32_t state;

	if (m->handing >= 0) {
		s = &m->g.slots[m->handing];
		state = STATS_LOAD(&s->wk.sw->state);
		if (state == WORKER_RESTARTING || state == WORKER_STARTING) {
			master_handover_overdue(m, s);
			return;		/* still on its way */
		}
		/*
		 * Its process died in the hand-over (killed as overdue or
		 * stalled, or crashed closing): the successor starts on the
		 * new pipeline now, not after a back-off, and is waited for.
		 * Once: a successor that dies too (a rollback's, crashing in
		 * the open of the previous pipeline) is left to its backoff,
		 * lest it be started again and again without one.
		 */
		if (s->pid <= 0 && !m->handing_revived &&
		    (state == WORKER_BACKOFF || state == WORKER_FAILED)) {
			m->handing_pid = 0;	/* the process told is gone */
			m->handing_revived = true;
			master_revive(m, s);
			if (s->pid > 0)
				return;
		}
		/*
		 * Its successor has taken its counters and gauges: a counter
		 * carried from earlier generations whose name it keeps as a
		 * gauge goes from the carry, before a later reload or a
		 * rollback could make the name a counter again.
		 */
		stats_carry_prune(s->wk.sw);
		m->handing = -1;
	}
	m->handing_pid = 0;
	if (m->nhandover == 0 && m->handing < 0) {
		/* Every worker runs the new pipeline: it has stood. */
		if (m->prev.cfg != NULL) {
			master_prev_free(m);
			master_reload_answer(m, NULL);
		} else if (m->rolling_back) {
			m->rolling_back = false;
			master_reload_answer(m, m->last_reload_error);
		}
		return;
	}
	while (m->nhandover > 0 && m->handing < 0) {
		s = &m->g.slots[m->handover[--m->nhandover]];
		if (s->pid <= 0) {
			/*
			 * Failed, or waiting to be respawned: start it now on
			 * the new pipeline, which may be what it waited for,
			 * and count the reload done only once it runs.
			 */
			master_revive(m, s);
			if (s->pid > 0)
				m->handing = (int)(s - m->g.slots);
			m->handing_revived = true;
			continue;
		}
		m->handing = (int)(s - m->g.slots);
		m->handing_revived = false;
		/*
		 * Started on the new pipeline already (a reload, not a
		 * rollback, under way): watched until it runs.
		 */
		if (s->on_new && m->prev.cfg != NULL)
			continue;
		m->handing_pid = s->pid;
		/* A closer was told at its start, as still starting. */
		if (!s->closer)
			master_hand_over(s);
	}
}

/* What cfg_diff reports of a key that only a restart of ringfan applies. */
static void
reload_restart_key(const char *key)
{
	log_warnx("reload: %s changes at the next start", key);
}

/*
 * Says which steps of capture c load their plugin from another file than
 * before, by another path and inode, found by the search path: a build
 * removed from the first directory of plugin_path, say, leaves one of the
 * same name further on.  A step is matched by its place and name.
 */
static void
reload_say_moved(const struct cfg *nc, size_t c,
    const struct plugin_info *was, size_t nwas, const struct plugin_info *now)
{
	for (size_t i = 0; i < nc->captures[c].npipeline && i < nwas; i++)
		if (strcmp(was[i].step, now[i].step) == 0 &&
		    strcmp(was[i].path, now[i].path) != 0 &&
		    (was[i].file.dev != now[i].file.dev ||
		    was[i].file.ino != now[i].file.ino))
			log_info("reload: capture %s, step %s: plugin file %s "
			    "(was %s)", nc->captures[c].name, now[i].step,
			    now[i].path, was[i].path);
}

/*
 * Host memory for every slot of the changed captures of nc, as validated
 * in infos; mems[slot] stays NULL for the others.  0, or -1 with err set.
 */
static int
master_map_changed(struct master *m, const struct cfg *nc,
    struct plugin_info **infos, const bool *changed, struct plugin_mem **mems,
    char *err, size_t errlen)
{
	const struct gen *g = &m->g;
	unsigned c;

	for (unsigned i = 0; i < g->nslots; i++) {
		c = g->slots[i].capture;
		if (changed[c] && (mems[i] = gen_mems_map(infos[c],
		    nc->captures[c].npipeline, err, errlen)) == NULL)
			return -1;
	}
	return 0;
}

/*
 * Move the changed captures of the current generation to the pipelines
 * validated in infos, with the memory of master_map_changed().  A running
 * worker keeps its own mapping of the old memory until it exits.
 */
static void
master_commit_pipelines(struct master *m, const struct cfg *nc,
    struct plugin_info **infos, const bool *changed, struct plugin_mem **mems)
{
	struct gen *g = &m->g;
	unsigned c;

	for (unsigned i = 0; i < g->nslots; i++) {
		c = g->slots[i].capture;
		if (!changed[c])
			continue;
		m->prev.mems[i] = g->mems[i];
		g->mems[i] = mems[i];
		mems[i] = NULL;
	}
	for (c = 0; c < nc->ncaptures; c++) {
		if (!changed[c])
			continue;
		m->prev.infos[c] = g->infos[c];
		g->infos[c] = infos[c];
		infos[c] = NULL;
	}
}

/* Free what a reload replaced: every worker runs the new pipeline. */
void
master_prev_free(struct master *m)
{
	struct reload_prev *p = &m->prev;
	size_t nc;

	if (p->cfg == NULL)
		return;
	nc = p->cfg->ncaptures;
	for (unsigned i = 0; p->mems != NULL && i < m->g.nslots; i++)
		if (p->mems[i] != NULL)
			gen_mems_free(p->mems[i], p->cfg->captures[
			    m->g.slots[i].capture].npipeline);
	free(p->mems);
	pipeline_info_free(p->infos, nc);
	free(p->changed);
	cfg_free(p->cfg);
	free(p->cfg);
	memset(p, 0, sizeof(*p));
}

/*
 * A worker failed on the pipeline a reload brought: every worker goes back
 * to the previous one.  Those still on it keep running; those restarted
 * already are handed over again; the failed one starts at once.
 */
void
master_rollback(struct master *m, struct slot *failed)
{
	struct reload_prev *p = &m->prev;
	struct gen *g = &m->g;
	struct cfg *nc = g->cfg;
	char name[64], uerr[256], werr[STATS_ERR_MAX];
	uid_t uid = 0;
	gid_t gid = 0;
	unsigned c;

	/* The worker wrote it: terminated here, whatever it left. */
	stats_text(werr, failed->wk.sw->err, sizeof(werr));
	snprintf(m->last_reload_error, sizeof(m->last_reload_error),
	    "reload: %s: %s; every worker is back on the previous pipeline",
	    master_slot_name(failed, name, sizeof(name)), werr);
	log_error("%s", m->last_reload_error);
	/*
	 * Dead in its loop, it left what it handled (a flow table, a write
	 * buffer) in the new pipeline's host memory, which goes now: it is
	 * started on that pipeline once more, told to hand over at once, to
	 * close it, as master_close_prev() does the other way round.  Its
	 * own mapping outlives the master's; its successor runs the previous
	 * pipeline.  One that failed in its open held nothing yet.
	 */
	if (STATS_LOAD(&failed->wk.sw->state) == WORKER_RUNNING &&
	    failed->wk.fd != -1 && master_spawn(m, failed) == 0 &&
	    failed->pid > 0) {
		log_info("%s: started on the new pipeline again, to close "
		    "what it left", name);
		failed->on_new = false;
		master_hand_over(failed);
		failed->closer = true;
		failed->mem_gone = true;
	}
	/* Those on the new pipeline keep its memory; the master does not. */
	for (unsigned i = 0; i < g->nslots; i++)
		if (p->changed[g->slots[i].capture] && g->slots[i].pid > 0 &&
		    g->slots[i].on_new)
			g->slots[i].mem_gone = true;
	for (unsigned i = 0; i < g->nslots; i++) {
		c = g->slots[i].capture;
		if (!p->changed[c])
			continue;
		gen_mems_free(g->mems[i], nc->captures[c].npipeline);
		g->mems[i] = p->mems[i];
		p->mems[i] = NULL;
	}
	for (c = 0; c < nc->ncaptures; c++) {
		if (!p->changed[c])
			continue;
		plugin_info_free(g->infos[c]);
		g->infos[c] = p->infos[c];
		p->infos[c] = NULL;
	}
	g->cfg = p->cfg;
	p->cfg = NULL;
	for (c = 0; c < g->cfg->ncaptures; c++)
		if (p->changed[c])
			gen_names(g, c);
	master_user(g->cfg, &uid, &gid, uerr, sizeof(uerr));
	gen_bind_slots(g, uid, gid);
	master_apply_live(m);
	/*
	 * A process started on the new pipeline (in the hand-over, or
	 * respawned meanwhile), or the one that failed on it: hand over once
	 * more, the failed one first.  One that has no process starts on the
	 * previous pipeline when it does.  The reload is answered once they
	 * all run the previous pipeline again.
	 */
	m->nhandover = 0;
	for (unsigned i = g->nslots; i-- > 0;) {
		const struct slot *s = &g->slots[i];

		/* One handing over from the old one is waited for too. */
		if (p->changed[s->capture] && s->pid > 0 && s != failed &&
		    (s->on_new || STATS_LOAD(&s->wk.sw->state) ==
		    WORKER_RESTARTING))
			m->handover[m->nhandover++] = i;
	}
	m->handover[m->nhandover++] = (unsigned)(failed - g->slots);
	m->handing = -1;
	m->rolling_back = true;
	p->cfg = nc;		/* freed below with the rest */
	master_prev_free(m);
	STATS_STORE(&failed->wk.sw->err[0], '\0');
	master_handover_step(m);
}

bool
master_reload_busy(const struct master *m)
{
	return master_reload_pending(m) || m->nhandover > 0 ||
	    m->handing >= 0 || m->bpf.pid > 0;
}

/* Run the reload asked for while another was under way, once it is over. */
void
master_reload_queued(struct master *m)
{
	struct reload_outcome o = { .m = m };
	char err[512];
	int rc;

	if (!m->reload_again || m->stopping || master_reload_busy(m))
		return;
	m->reload_again = false;
	/* Its filters compiling: the clients wait on. */
	if ((rc = master_reload(m, &o.what, err, sizeof(err))) ==
	    -EINPROGRESS)
		return;
	if (rc != 0) {
		log_error("reload failed, configuration unchanged: %s", err);
		o.what = NULL;
		o.err = err;
	} else
		log_info("reload: %s", o.what);
	ctl_resume(m->ctl, RELOAD_WAIT_QUEUED, reload_answer, &o);
}

bool
master_reload_pending(const struct master *m)
{
	return m->prev.cfg != NULL || m->rolling_back || m->swap != SWAP_NONE;
}

/*
 * The workers of the changed captures that are down after a crash (in
 * their backoff, or past the crash-loop limit; not a setup failure, which
 * would fail again) are started now on the pipeline they had, once every
 * step that can fail is done (the new host memory is mapped already: the
 * child unmaps it, m->staged), and told to hand over at once.  Their plugins
 * take over what the killed worker left in host memory (a flow table, a
 * write buffer) in their open, and close it as the running ones close
 * theirs: records and frames are written, not dropped with the old
 * memory.  No frame of the ring meets that pipeline.
 */
static void
master_close_down(struct master *m, const bool *changed)
{
	char name[64];

	for (unsigned i = 0; i < m->g.nslots; i++) {
		struct slot *s = &m->g.slots[i];

		if (changed[s->capture])
			master_close_gone(m, s);
		if (!changed[s->capture] || !master_down_after_crash(s))
			continue;
		log_info("%s: started on its pipeline before the reload, to "
		    "close what it left", master_slot_name(s, name,
		    sizeof(name)));
		master_revive(m, s);
		if (s->pid > 0) {
			master_hand_over(s);
			s->closer = true;
		}
	}
}

bool
master_on_prev(const struct master *m, const struct slot *s)
{
	const struct reload_prev *p = &m->prev;
	unsigned i = (unsigned)(s - m->g.slots);

	/* A slot of a retiring generation is no slot of m->g. */
	if (s < m->g.slots || s >= m->g.slots + m->g.nslots)
		return false;
	return p->cfg != NULL && p->mems != NULL && p->mems[i] != NULL &&
	    p->changed[s->capture] && !s->on_new;
}

int
master_spawn_prev(struct master *m, struct slot *s, bool closer)
{
	struct reload_prev *p = &m->prev;
	unsigned i = (unsigned)(s - m->g.slots);
	struct worker saved = s->wk;
	char uerr[256];
	uid_t uid = 0;
	gid_t gid = 0;
	int rc;

	if (master_user(p->cfg, &uid, &gid, uerr, sizeof(uerr)) != 0)
		return -EINVAL;
	s->wk.cfg = p->cfg;
	s->wk.cap = &p->cfg->captures[s->capture];
	s->wk.info = p->infos[s->capture];
	s->wk.mem = p->mems[i];
	s->wk.snaplen = capture_snaplen(s->wk.cap);
	s->wk.drop_privileges = p->cfg->user != NULL;
	s->wk.uid = uid;
	s->wk.gid = gid;
	m->staged = m->g.mems;		/* the new pipeline's: not its own */
	m->staged_cfg = m->g.cfg;
	rc = closer ? master_spawn_closer(m, s) : master_spawn(m, s);
	m->staged = NULL;
	m->staged_cfg = NULL;
	s->wk = saved;
	/* master_fork() took it for one on the new pipeline: it is not. */
	s->on_new = false;
	return rc;
}

/*
 * A worker of a capture whose pipeline a reload changes died while still
 * on the previous pipeline (a crash, a stall's kill, killed as overdue in
 * its hand-over): what it left is in the previous pipeline's host memory
 * (a flow table, a write buffer), which no successor on the new pipeline
 * reads.  As master_close_down() does for one down when the reload
 * begins, it is started at once on the previous pipeline, told to hand
 * over, so that its plugins take that memory over and close it; its
 * successor then runs the new pipeline.  The death counts as a restart,
 * but no back-off comes before the closer, which takes no frame.
 */
bool
master_close_prev(struct master *m, struct slot *s)
{
	unsigned i = (unsigned)(s - m->g.slots);
	char name[64];

	if (!master_on_prev(m, s) || s->wk.fd == -1 ||
	    master_spawn_prev(m, s, false) != 0 || s->pid <= 0)
		return false;
	log_info("%s: started on its previous pipeline, to close what it "
	    "left", master_slot_name(s, name, sizeof(name)));
	master_hand_over(s);
	s->closer = true;
	if (m->handing == (int)i)
		m->handing_pid = s->pid;
	return true;
}

/*
 * A capture reload builds every capture's sockets, but a capture it leaves
 * as it is whose interface is gone goes on waiting for it, as it did,
 * instead of failing the reload of the others.
 */
static void
reload_keep_waiting(const struct cfg *old, struct cfg *nc)
{
	struct cfg_capture *cap;

	for (size_t c = 0; c < nc->ncaptures; c++) {
		cap = &nc->captures[c];
		for (size_t o = 0; o < old->ncaptures; o++)
			if (strcmp(old->captures[o].name, cap->name) == 0 &&
			    !cfg_capture_rebuilt(&old->captures[o], cap) &&
			    if_nametoindex(cap->interface) == 0)
				cap->keeps_waiting = true;
	}
}

static int
master_reload_run(struct master *m, const char **what, char *err,
    size_t errlen)
{
	struct cfg *old = m->g.cfg, nc, *ncfg = NULL;
	struct plugin_info **infos = NULL;
	struct plugin_mem **mems = NULL;
	bool *changed = NULL, any = false, everything;
	uid_t uid = 0;
	gid_t gid = 0;
	int rc = -EINVAL;

	*what = NULL;
	if (m->opts.config_path == NULL) {
		snprintf(err, errlen, "no configuration file to reload "
		    "(started with -i)");
		rc = -ENOENT;
		goto fail_early;
	}
	if (m->stopping) {
		snprintf(err, errlen, "stopping");
		rc = -ESHUTDOWN;
		goto fail_early;
	}
	if (master_reload_busy(m)) {
		snprintf(err, errlen, "a reload is still in progress");
		rc = -EBUSY;
		goto fail_early;
	}
	if (cfg_load(&nc, m->opts.config_path, err, errlen) != 0)
		goto fail_early;
	/* The number of captures is a key of the global diff. */
	if (cfg_diff(old, &nc, CFG_DIFF_GLOBAL, NULL) & CFG_RELOAD_CAPTURE)
		goto captures;
	for (size_t c = 0; c < nc.ncaptures; c++)
		if (cfg_diff(old, &nc, c, NULL) & CFG_RELOAD_CAPTURE)
			goto captures;
	/*
	 * No socket is opened here: an interface that is gone for now (its
	 * capture waiting, linkwatch.c) does not refuse a pipeline reload.
	 * Nor is a filter compiled: the sockets keep theirs, as bpf is a
	 * capture key.
	 */
	if (master_validate(&nc, false, NULL, NULL, &infos, err, errlen) != 0 ||
	    master_user(&nc, &uid, &gid, err, errlen) != 0)
		goto fail;
	/* A new user or plugin path concerns every worker. */
	everything = (cfg_diff(old, &nc, CFG_DIFF_GLOBAL, reload_restart_key) &
	    CFG_RELOAD_PIPELINE) != 0;
	cfg_keep_restart(&nc, old);
	rc = -ENOMEM;
	if ((changed = calloc(nc.ncaptures, sizeof(*changed))) == NULL) {
		snprintf(err, errlen, "reload: %s", strerror(ENOMEM));
		goto fail;
	}
	/* Options, or a plugin's file replaced by another build. */
	for (size_t c = 0; c < nc.ncaptures; c++) {
		changed[c] = everything ||
		    (cfg_diff(old, &nc, c, NULL) & CFG_RELOAD_PIPELINE) != 0 ||
		    !plugin_info_same(m->g.infos[c], infos[c],
		    nc.captures[c].npipeline);
		any |= changed[c];
	}
	if ((mems = calloc(m->g.nslots, sizeof(*mems))) == NULL ||
	    (ncfg = malloc(sizeof(*ncfg))) == NULL) {
		snprintf(err, errlen, "reload: %s", strerror(ENOMEM));
		goto fail;
	}
	if (master_map_changed(m, &nc, infos, changed, mems, err, errlen) != 0)
		goto fail;
	if (any && ((m->prev.mems = calloc(m->g.nslots,
	    sizeof(*m->prev.mems))) == NULL || (m->prev.infos = calloc(
	    nc.ncaptures, sizeof(*m->prev.infos))) == NULL)) {
		free(m->prev.mems);
		m->prev.mems = NULL;
		snprintf(err, errlen, "reload: %s", strerror(ENOMEM));
		goto fail;
	}

	/* From here on nothing fails: swap in the new configuration. */
	for (size_t c = 0; c < nc.ncaptures; c++)
		if (changed[c])
			reload_say_moved(&nc, c, m->g.infos[c],
			    old->captures[c].npipeline, infos[c]);
	if (any) {
		m->staged = mems;
		m->staged_infos = infos;
		m->staged_cfg = &nc;
		master_close_down(m, changed);
		m->staged = NULL;
		m->staged_infos = NULL;
		m->staged_cfg = NULL;
	}
	if (any) {
		master_commit_pipelines(m, &nc, infos, changed, mems);
		m->prev.cfg = old;
		m->prev.changed = changed;
		changed = NULL;
	}
	*ncfg = nc;
	m->g.cfg = ncfg;
	/* Whatever runs now runs the previous pipeline. */
	for (unsigned i = 0; i < m->g.nslots; i++)
		m->g.slots[i].on_new = false;
	for (size_t c = 0; c < nc.ncaptures; c++)
		if (m->prev.changed != NULL && m->prev.changed[c])
			gen_names(&m->g, c);
	gen_bind_slots(&m->g, uid, gid);
	m->nhandover = 0;
	for (unsigned i = m->g.nslots; i-- > 0 && m->prev.cfg != NULL;)
		if (m->prev.changed[m->g.slots[i].capture])
			m->handover[m->nhandover++] = i;
	/* A reload is what a failed worker of any capture waits for. */
	for (unsigned i = 0; i < m->g.nslots; i++) {
		struct slot *s = &m->g.slots[i];

		if (s->pid <= 0 && (m->prev.cfg == NULL ||
		    !m->prev.changed[s->capture]) &&
		    STATS_LOAD(&s->wk.sw->state) == WORKER_FAILED)
			master_revive(m, s);
	}
	master_apply_live(m);
	if (m->prev.cfg == NULL) {
		cfg_free(old);
		free(old);
	}
	free(changed);
	free(mems);
	pipeline_info_free(infos, nc.ncaptures);
	m->reloads++;
	m->last_reload_error[0] = '\0';
	*what = any ? "pipeline" : "unchanged";
	log_info("reloaded %s: %s", m->g.cfg->path, any ?
	    "restarting workers one at a time" : "no pipeline changed");
	master_handover_step(m);
	return 0;

captures:
	reload_keep_waiting(old, &nc);
	/*
	 * New filters are compiled in a child first, and the reload read
	 * again when it is done (the latest file wins, as for any reload
	 * queued): the master serves and supervises meanwhile.
	 */
	bpfcache_prune(m->g.cfg, &nc);
	if (gen_compile_ahead(&m->bpf, &nc)) {
		cfg_free(&nc);
		m->reload_again = true;
		snprintf(err, errlen, "compiling the new filters");
		return -EINPROGRESS;
	}
	/* master_swap_begin validates the new file as it builds it. */
	if ((rc = master_swap_begin(m, &nc, err, errlen)) == 0) {
		/*
		 * Kept: the retiring generation's, for a swap that goes
		 * back to it.  After a failure, the refused file's stay for
		 * its next try (the prune above bounds them).
		 */
		bpfcache_prune(m->g.cfg, m->old.cfg);
		*what = "captures";
		cfg_diff(m->old.cfg, m->g.cfg, CFG_DIFF_GLOBAL,
		    reload_restart_key);
		cfg_keep_restart(m->g.cfg, m->old.cfg);
	}
	return rc;
fail:
	for (unsigned i = 0; mems != NULL && i < m->g.nslots; i++)
		if (mems[i] != NULL)
			gen_mems_free(mems[i], nc.captures[
			    m->g.slots[i].capture].npipeline);
	free(mems);
	free(ncfg);
	pipeline_info_free(infos, nc.ncaptures);
	free(changed);
	cfg_free(&nc);
fail_early:
	strlcpy(m->last_reload_error, err, sizeof(m->last_reload_error));
	return rc;
}

int
master_reload(struct master *m, const char **what, char *err, size_t errlen)
{
	int rc = master_reload_run(m, what, err, errlen);

	/*
	 * A compiling child's death is the outcome of the one reload that
	 * waited for it, this one unless it is still waiting: whatever this
	 * one did not report, the next reload compiles again.
	 */
	if (rc != -EINPROGRESS && rc != -EBUSY)
		bpfcache_forget_once();
	return rc;
}
