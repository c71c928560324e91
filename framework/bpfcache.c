/*
 * Compiled filters kept by the master, and the child that compiles a
 * reload's (bpfcache.h).
 */
#include <errno.h>
#include <linux/filter.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bpfcache.h"
#include "capture.h"
#include "config.h"
#include "log.h"
#include "util.h"

struct bpf_kept {
	char			*iface;
	char			*expr;
	int			 lt;
	bool			 present;
	bool			 once;		/* found once, then forgotten */
	int			 rc;
	struct sock_fprog	 prog;
	char			 msg[256];
};

static struct bpf_kept	*kept;
static size_t		 nkept;

/* What the child was asked to compile, and for which capture's log. */
struct bpfjob_item {
	char			*iface;
	char			*expr;
	char			*capture;
	int			 lt;
	bool			 present;
};

/* Its outcome, written by the child into memory shared with the master. */
#define BPFJOB_UNDONE	1
#define BPFJOB_MOVED	2	/* the interface came or went: not kept */
struct bpfjob_out {
	int			 rc;		/* BPFJOB_UNDONE until done */
	bool			 live;		/* on a live handle */
	unsigned		 len;
	char			 msg[256];
	struct sock_filter	 insns[BPF_MAXINSNS];
};

static struct bpf_kept *
bpfcache_at(const char *iface, bool present, const char *expr, int lt)
{
	for (size_t i = 0; i < nkept; i++)
		if (kept[i].lt == lt && kept[i].present == present &&
		    strcmp(kept[i].iface, iface) == 0 &&
		    strcmp(kept[i].expr, expr) == 0)
			return &kept[i];
	return NULL;
}

static void
bpfcache_drop(struct bpf_kept *k)
{
	free(k->iface);
	free(k->expr);
	capture_bpf_free(&k->prog);
	*k = kept[--nkept];
}

int
bpfcache_find(const char *iface, bool present, const char *expr, int lt,
    struct sock_fprog *prog, char *msg, size_t msglen)
{
	struct bpf_kept *k = bpfcache_at(iface, present, expr, lt);
	size_t len;
	int rc;

	prog->len = 0;
	prog->filter = NULL;
	if (k == NULL)
		return 0;
	if ((rc = k->rc) != 0) {
		strlcpy(msg, k->msg, msglen);
		if (k->once)
			bpfcache_drop(k);
		return rc;
	}
	len = k->prog.len * sizeof(*k->prog.filter);
	if ((prog->filter = malloc(len ? len : 1)) == NULL) {
		strlcpy(msg, strerror(ENOMEM), msglen);
		return -ENOMEM;
	}
	memcpy(prog->filter, k->prog.filter, len);
	prog->len = k->prog.len;
	if (k->once)
		bpfcache_drop(k);
	return 1;
}

static void
bpfcache_keep(const char *iface, bool present, const char *expr, int lt,
    int rc, const struct sock_fprog *prog, const char *msg, bool once)
{
	struct bpf_kept k = { .lt = lt, .present = present, .rc = rc }, *at;
	size_t len = rc == 0 ? prog->len * sizeof(*prog->filter) : 0;

	k.once = once;
	strlcpy(k.msg, rc != 0 ? msg : "", sizeof(k.msg));
	k.iface = strdup(iface);
	k.expr = strdup(expr);
	if (rc == 0 && (k.prog.filter = malloc(len ? len : 1)) != NULL) {
		memcpy(k.prog.filter, prog->filter, len);
		k.prog.len = prog->len;
	}
	at = reallocarray(kept, nkept + 1, sizeof(*kept));
	if (k.iface == NULL || k.expr == NULL || at == NULL ||
	    (rc == 0 && k.prog.filter == NULL)) {
		/* Not kept: it is compiled again when next needed. */
		if (at != NULL)
			kept = at;
		free(k.iface);
		free(k.expr);
		free(k.prog.filter);
		return;
	}
	kept = at;
	if ((at = bpfcache_at(iface, present, expr, lt)) != NULL)
		bpfcache_drop(at);
	kept[nkept++] = k;
}

void
bpfcache_put(const char *iface, bool present, const char *expr, int lt,
    int rc, const struct sock_fprog *prog, const char *msg)
{
	bpfcache_keep(iface, present, expr, lt, rc, prog, msg,
	    rc != 0 && rc != -EINVAL);
}

static bool
bpfcache_used(const struct cfg *cfg, const struct bpf_kept *k)
{
	for (size_t c = 0; cfg != NULL && c < cfg->ncaptures; c++)
		if (cfg->captures[c].bpf != NULL &&
		    strcmp(cfg->captures[c].interface, k->iface) == 0 &&
		    strcmp(cfg->captures[c].bpf, k->expr) == 0)
			return true;
	return false;
}

void
bpfcache_prune(const struct cfg *a, const struct cfg *b)
{
	for (size_t i = nkept; i-- > 0;)
		if (!bpfcache_used(a, &kept[i]) && !bpfcache_used(b, &kept[i]))
			bpfcache_drop(&kept[i]);
}

void
bpfcache_forget_once(void)
{
	for (size_t i = nkept; i-- > 0;)
		if (kept[i].once)
			bpfcache_drop(&kept[i]);
}

void
bpfcache_clear(void)
{
	bpfcache_prune(NULL, NULL);
	free(kept);
	kept = NULL;
}

static bool
bpfjob_has(const struct bpfjob *j, const struct bpfjob_item *it)
{
	for (size_t i = 0; i < j->n; i++)
		if (j->items[i].lt == it->lt &&
		    j->items[i].present == it->present &&
		    strcmp(j->items[i].iface, it->iface) == 0 &&
		    strcmp(j->items[i].expr, it->expr) == 0)
			return true;
	return false;
}

static void
bpfjob_items_free(struct bpfjob *j)
{
	for (size_t i = 0; i < j->n; i++) {
		free(j->items[i].iface);
		free(j->items[i].expr);
		free(j->items[i].capture);
	}
	free(j->items);
	j->items = NULL;
	if (j->out != NULL)
		munmap(j->out, j->n * sizeof(*j->out));
	j->out = NULL;
	j->n = 0;
}

/* The filters of cfg that are not kept, each once, into j's items. */
static int
bpfjob_list(struct bpfjob *j, const struct cfg *cfg, const int *lt)
{
	if ((j->items = calloc(cfg->ncaptures ? cfg->ncaptures : 1,
	    sizeof(*j->items))) == NULL)
		return -ENOMEM;
	for (size_t c = 0; c < cfg->ncaptures; c++) {
		const struct cfg_capture *cap = &cfg->captures[c];
		struct bpfjob_item it = {
			.iface = (char *)cap->interface,
			.expr = (char *)cap->bpf,
			.lt = lt[c],
			.present = if_nametoindex(cap->interface) != 0,
		};

		if (cap->bpf == NULL || bpfjob_has(j, &it))
			continue;
		/* A failure kept once stays for the reload to report. */
		if (bpfcache_at(it.iface, it.present, it.expr, it.lt) != NULL)
			continue;
		it.iface = strdup(cap->interface);
		it.expr = strdup(cap->bpf);
		it.capture = strdup(cap->name);
		j->items[j->n++] = it;
		if (it.iface == NULL || it.expr == NULL || it.capture == NULL)
			return -ENOMEM;
	}
	return 0;
}

/* The child: each filter compiled into the shared outcomes, then exit. */
static void __attribute__((noreturn))
bpfjob_child(const struct bpfjob *j, pid_t master)
{
	struct sock_fprog prog;

	/* SIGTERM, a `kill PID`, ends the compile (a stop kills it too). */
	child_signals(false);
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != master)
		_exit(1);
	/* No capture socket of the master's stays a member of its group. */
	log_close_others();
	setproctitle("filter compiler");
	for (size_t i = 0; i < j->n; i++) {
		const struct bpfjob_item *it = &j->items[i];
		struct bpfjob_out *o = &j->out[i];

		/*
		 * The key says whether a live handle compiles it (`vlan`
		 * differs there), as the interface was when the master
		 * listed it, maybe seconds of other filters ago: one that
		 * came or went meanwhile, or during the compile, gets no
		 * outcome, and the reload that runs next lists it again as
		 * the interface is then.
		 */
		if ((if_nametoindex(it->iface) != 0) != it->present) {
			o->rc = BPFJOB_MOVED;
			continue;
		}
		o->rc = capture_bpf_build(it->capture, it->iface, it->expr,
		    it->lt, &prog, &o->live, o->msg, sizeof(o->msg));
		if ((if_nametoindex(it->iface) != 0) != it->present)
			o->rc = BPFJOB_MOVED;
		else if (o->rc == 0) {
			memcpy(o->insns, prog.filter,
			    prog.len * sizeof(*prog.filter));
			o->len = prog.len;
		}
		capture_bpf_free(&prog);
	}
	_exit(0);
}

int
bpfjob_start(struct bpfjob *j, const struct cfg *cfg, const int *lt)
{
	pid_t master = getpid();
	void *p;
	int rc;

	if (j->pid > 0)
		return -EBUSY;
	if ((rc = bpfjob_list(j, cfg, lt)) != 0 || j->n == 0) {
		bpfjob_items_free(j);
		return rc;
	}
	p = mmap(NULL, j->n * sizeof(*j->out), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		rc = -errno;
		bpfjob_items_free(j);
		return rc;
	}
	j->out = p;
	for (size_t i = 0; i < j->n; i++)
		j->out[i].rc = BPFJOB_UNDONE;
	j->started = mono_ns();
	j->overdue = false;
	if ((j->pid = fork()) == -1) {
		rc = -errno;
		j->pid = 0;
		bpfjob_items_free(j);
		return rc;
	}
	if (j->pid == 0)
		bpfjob_child(j, master);
	return 1;
}

bool
bpfjob_watch(struct bpfjob *j, uint64_t now)
{
	/* now may be older than a start of this very turn. */
	if (j->pid <= 0 || j->overdue || now < j->started + BPFJOB_LIMIT_NS)
		return false;
	log_error("filter compiler (pid %d) still compiling after %llu s: "
	    "killing it", (int)j->pid, BPFJOB_LIMIT_NS / 1000000000ull);
	kill(j->pid, SIGKILL);
	j->overdue = true;
	return true;
}

void
bpfjob_reaped(struct bpfjob *j, int status)
{
	char what[96], why[128];

	if (j->overdue)
		snprintf(what, sizeof(what), "took more than %llu s and was "
		    "killed", BPFJOB_LIMIT_NS / 1000000000ull);
	else if (WIFSIGNALED(status))
		snprintf(what, sizeof(what), "was killed by signal %d (%s)",
		    WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(what, sizeof(what), "exited with status %d",
		    WEXITSTATUS(status));
	snprintf(why, sizeof(why), "the process compiling it %s", what);
	if (!j->overdue && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
		log_error("filter compiler (pid %d) %s", (int)j->pid, what);
	for (size_t i = 0; i < j->n; i++) {
		const struct bpfjob_item *it = &j->items[i];
		struct bpfjob_out *o = &j->out[i];
		struct sock_fprog prog = { .len = 0, .filter = o->insns };

		if (o->rc == BPFJOB_MOVED)
			continue;
		/* Undone: the reload that waits for it reports why, once. */
		if (o->rc == BPFJOB_UNDONE) {
			bpfcache_put(it->iface, it->present, it->expr, it->lt,
			    -ECHILD, NULL, why);
			continue;
		}
		if (o->rc == 0 && o->len <= BPF_MAXINSNS)
			prog.len = (unsigned short)o->len;
		else if (o->rc == 0)
			o->rc = -EINVAL;
		o->msg[sizeof(o->msg) - 1] = '\0';
		/*
		 * On a dead handle of an interface that is there (down:
		 * libpcap activates none): for the reload that waits only,
		 * as a live handle compiles it once the interface is up.
		 */
		bpfcache_keep(it->iface, it->present, it->expr, it->lt, o->rc,
		    &prog, o->msg, (o->rc != 0 && o->rc != -EINVAL) ||
		    o->live != it->present);
	}
	j->pid = 0;
	bpfjob_items_free(j);
}

void
bpfjob_free(struct bpfjob *j)
{
	if (j->pid > 0)
		kill(j->pid, SIGKILL);
	j->pid = 0;
	bpfjob_items_free(j);
}
