/*
 * What the files of the config loader share, and nothing outside them sees:
 * config.c (reading, libyaml, errors, cfg_load), config_parse.c (the
 * generic parsers and the table walker), config_keys.c (the global keys),
 * config_capture.c (a capture's keys) and config_diff.c (cfg_diff).
 */
#ifndef RINGFAN_CONFIG_INT_H
#define RINGFAN_CONFIG_INT_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "config.h"

#define DEFAULT_MODE		0660
#define MAX_CAPTURES		64
#define MAX_WORKERS		256
#define MAX_CAPTURE_NAME	32
#define MAX_PLUGIN_NAME		31
#define MAX_IFNAME		15	/* IFNAMSIZ less the NUL */
/* What valid_ifname() takes, for the message of a name it refuses. */
#define IFNAME_RULE \
	"(1..15 bytes, no '/', ':' or whitespace, not . or ..)"
#define MAX_BLOCK_SIZE		(UINT64_C(1) << 30)
#define MAX_BLOCK_COUNT		65536
#define MIB			(UINT64_C(1) << 20)
#define CPU_ONLINE_FILE		"/sys/devices/system/cpu/online"
#define NS_PER_MS		UINT64_C(1000000)
#define NS_PER_S		UINT64_C(1000000000)

struct ctx {
	const char	*name;
	const char	*text;
	size_t		 len;
	yaml_document_t	*doc;
	char		*err;
	size_t		 errlen;
	struct capctx	*cc;		/* the capture being walked */
	uint64_t	 ring_total;	/* bytes of ring of the captures so far */
	int		 online_state;	/* 0 unread, 1 read, -1 unknown */
	cpu_set_t	 online;
	char		 online_list[256];
};

/* What the capture-level handlers share beyond the capture itself. */
struct capctx {
	struct cfg_capture	*cap;
	bool			 group_set;
	yaml_mark_t		 group_mark;	/* of its value, when set */
	yaml_mark_t		 name_mark;
	const yaml_node_t	*ring_node;	/* NULL: ring not set */
};

/*
 * How a key's value is stored, which decides how it is parsed (unless the
 * row has its own handler), defaulted, compared by cfg_diff and freed.
 */
enum key_type {
	KT_SECTION,	/* a mapping of the keys of sub, in the same struct */
	KT_BOOL,
	KT_UINT,	/* an integer min..max, of `size` bytes */
	KT_DURATION,	/* min..max ns, stored in units of `unit` ns */
	KT_STRING,	/* never empty; null unsets an optional one */
	KT_ENUM,	/* one of names, stored as an integer */
	KT_CUSTOM,	/* fn parses, same compares, drop frees */
};

struct cfg_key;
typedef int	key_fn(struct ctx *, const struct cfg_key *, void *,
		    yaml_node_t *);

/*
 * One key of the file: offsets are into the struct its table describes
 * (struct cfg, cfg_capture or cfg_plugin).
 * Every row has a reload class, so that cfg_diff compares every key and a
 * new one cannot be forgotten there.
 */
struct cfg_key {
	const char		*name;
	enum key_type		 type;
	unsigned		 reload;	/* enum cfg_reload */
	size_t			 off;
	size_t			 size;
	uint64_t		 min, max;	/* KT_UINT; KT_DURATION in ns */
	uint64_t		 unit;		/* KT_DURATION */
	const char		*range;		/* KT_DURATION, for messages */
	bool			 optional;	/* KT_STRING */
	const struct cfg_enum	*names;		/* KT_ENUM */
	const char		*what;		/* KT_ENUM, for messages */
	bool			 has_def;
	uint64_t		 def;		/* as stored */
	const char		*sdef;		/* KT_STRING */
	const struct cfg_key	*sub;		/* keys of a section or entry */
	key_fn			*fn;		/* NULL: the type's parser */
	bool			(*same)(const void *, const void *);
	void			(*drop)(void *);
	const char		*sample;	/* for tests: not the default */
};

#define ROW(n, t, r)	.name = (n), .type = (t), .reload = (r)
#define AT(s, m)	.off = offsetof(struct s, m), \
			.size = sizeof(((struct s *)0)->m)
#define DEF(v)		.has_def = true, .def = (v)

/* Each enum's names, for parsing and for naming. */
struct cfg_enum {
	const char	*name;
	int		 value;
};

/*
 * A name of a list and its place there: names_sorted() sorts a list by
 * its names, which a file can make as long as it has room for, where a
 * pairwise search would take minutes.
 */
struct name_at {
	const char	*name;
	size_t		 index;
};

/* The tables of keys, each a list ended by a row without a name. */
extern const struct cfg_key	cfg_top_keys[];		/* config_keys.c */
extern const struct cfg_key	cfg_plugin_keys[];	/* config_keys.c */
extern const struct cfg_key	cfg_capture_keys[];	/* config_capture.c */

/* config.c */
int		 perr(struct ctx *, yaml_mark_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* config_parse.c */
yaml_node_t	*node_at(struct ctx *, int);
const char	*sval(const yaml_node_t *);
bool		 is_null(const yaml_node_t *);
int		 check_nul(struct ctx *, const char *, const yaml_node_t *);
int		 check_key_nul(struct ctx *, const char *, const yaml_node_t *);
int		 get_scalar(struct ctx *, const char *, const yaml_node_t *,
		    const char *, const char **);
char		*dup_or_err(struct ctx *, const yaml_node_t *, const char *);
int		 get_text(struct ctx *, const char *, const yaml_node_t *,
		    const char **);
int		 get_string(struct ctx *, const char *, const yaml_node_t *,
		    bool, char **);
int		 get_uint(struct ctx *, const char *, const yaml_node_t *,
		    uint64_t, uint64_t, uint64_t *);
void		*field(void *, const struct cfg_key *);
const void	*cfield(const void *, const struct cfg_key *);
void		 store_uint(void *, size_t, uint64_t);
uint64_t	 load_uint(const void *, size_t);
const struct cfg_enum *enum_find(const struct cfg_enum *, const char *);
const char	*enum_name(const struct cfg_enum *, int);
int		 parse_value(struct ctx *, const struct cfg_key *, void *,
		    yaml_node_t *);
int		 walk_mapping(struct ctx *, yaml_node_t *, const char *,
		    const struct cfg_key *, void *);
int		 set_defaults(const struct cfg_key *, void *);
void		 free_keys(const struct cfg_key *, void *);
void		 free_entries(const struct cfg_key *, void *, size_t, size_t);
bool		 str_eq(const char *, const char *);
/*
 * The n names of list, name(list, i) each, sorted by name and a name's in
 * list order; an array to free, or NULL when out of memory.
 */
struct name_at	*names_sorted(const void *list, size_t n,
		    const char *(*name)(const void *, size_t));
/*
 * The earliest entry of list, in list order, whose name an entry before it
 * has, in *dup, and that first entry of the name in *first; *dup SIZE_MAX
 * when every name differs.  0, or -1 when out of memory.
 */
int		 names_first_dup(const void *list, size_t n,
		    const char *(*name)(const void *, size_t), size_t *dup,
		    size_t *first);

/* config_keys.c */
int		 global_defaults(struct cfg *, const char *);

/* config_capture.c */
int		 capture_defaults(struct cfg_capture *);
bool		 valid_ifname(const char *);
/* The `name` of a pipeline entry: its step's name. */
int		 h_step_name(struct ctx *, const struct cfg_key *, void *,
		    yaml_node_t *);

/* config_diff.c */
unsigned	 diff_keys(const struct cfg_key *, const char *, const void *,
		    const void *, void (*)(const char *));

#endif /* RINGFAN_CONFIG_INT_H */
