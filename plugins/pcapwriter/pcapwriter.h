/*
 * pcapwriter's parts, shared by pcapwriter.c (options and the plugin's
 * callbacks) and pcapwriter_file.c (the write buffer, the files, recovery
 * and max_disk).  Not installed: the plugin's ABI is <ringfan/plugin.h>.
 */
#ifndef PCAPWRITER_H
#define PCAPWRITER_H

#include <sys/types.h>

#include <stdbool.h>
#include <stdint.h>

#include <ringfan/plugin.h>

#define PW_LAYOUT	1		/* version of struct pw_mem */
#define PW_MAGIC	0x7277706163707766ULL	/* "fwpcapwr" */
#define PW_BUF		(1u << 20)	/* the write buffer, in host memory */
#define PW_PATH		4096		/* PATH_MAX */
#define PW_NAME		255		/* NAME_MAX */
#define PW_MAXSNAP	262144u		/* the most libpcap reads */
#define PW_FILEHDR	24u
#define PW_RECHDR	16u
#define PW_TAGLEN	4u	/* a VLAN tag put back: TPID and TCI */
#define PW_TICK_NS	1000000000ULL	/* flush and retry once a second */
#define PW_RESCAN_NS	10000000000ULL	/* list the files again (max_disk) */
/*
 * The first ts_ns a record cannot hold: its seconds are 32 bits, unsigned
 * (2106-02-07T06:28:16Z).
 */
#define PW_TS_END	((UINT32_MAX + 1ULL) * 1000000000ULL)
/*
 * What {time} becomes: 20261202T013000Z-000001, the sequence 6 to 19
 * digits (room for 20 kept).
 */
#define PW_STAMP	16u		/* 20261202T013000Z */
#define PW_TIME_MAX	(PW_STAMP + 1 + 20)
#define PW_FILE_MODE	0640		/* frames are private data */
/* The largest sequence number a file's name holds: 19 digits (pw_name_seq). */
#define PW_SEQ_MAX	9999999999999999999ULL

/*
 * One store of a word of host memory.  The release order keeps the compiler
 * from moving the copy of a record (or anything before it) past the store
 * that publishes it: a kill -9 sees every store before it and none after.
 */
#define PW_STORE(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)

/* The open file, in host memory.  All offsets are file offsets. */
struct pw_slot {
	char		 path[PW_PATH];
	uint64_t	 seq;		/* the sequence number in its name */
	uint64_t	 open_ns;	/* network time of its first frame */
	uint64_t	 start;		/* buf holds the file's [start, end) */
	uint64_t	 base;		/* [0, base): on disk, whole */
	uint64_t	 end;		/* the file's length once flushed */
};

/*
 * Host memory (ctx->memory), which outlives a killed worker.  The rules
 * that keep it recoverable head pcapwriter_file.c.
 */
struct pw_mem {
	uint64_t	 magic;		/* PW_MAGIC once initialised */
	uint64_t	 bufsize;	/* PW_BUF */
	uint64_t	 seq;		/* the highest sequence number used */
	uint64_t	 live;		/* 1 while slot is the open file */
	struct pw_slot	 slot;
	uint8_t		 buf[];		/* PW_BUF bytes */
};

#define PW_MEMSIZE	(sizeof(struct pw_mem) + PW_BUF)

struct pw_opts {
	const char	*directory;
	const char	*pattern;
	uint64_t	 snaplen;	/* 0: the capture's */
	uint64_t	 rotate_size;	/* 0: never */
	uint64_t	 rotate_interval; /* ns, 0: never */
	uint64_t	 max_disk;	/* 0: unlimited */
	int		 nanosecond;
};

enum pw_counter {
	PW_FRAMES, PW_BYTES, PW_FILES, PW_ROTATIONS, PW_REMOVED,
	PW_WRITE_ERRORS, PW_FRAMES_DROPPED, PW_BYTES_DROPPED,
	PW_OPEN_BYTES, PW_DISK_BYTES,		/* gauges */
	PW_NCOUNTERS
};
#define PW_FIRST_GAUGE	PW_OPEN_BYTES

/* A closed file of this worker, oldest first: what max_disk removes. */
struct pw_old {
	uint64_t	 seq;
	uint64_t	 size;
	char		 name[PW_NAME + 1];
};

/* Frames of one kind no file can hold, until a tick without one. */
struct pw_spell {
	bool		 on;		/* logged; its status shown */
	bool		 tick;		/* one came since the last tick */
};

struct pw {
	struct ringfan_ctx	*ctx;		/* valid until close returns */
	struct pw_opts		 o;
	struct pw_mem		*m;		/* host memory */
	struct pw_slot		*s;		/* &m->slot while one is open */
	int			 fd;
	uint32_t		 snaplen;	/* the most a record holds */
	uint64_t		 rotate;	/* rotate_size or RLIMIT_FSIZE */
	uint64_t		 fsize;		/* RLIMIT_FSIZE; 0: none */
	uint8_t			 filehdr[PW_FILEHDR];
	uint64_t		 deadline;	/* rotate_interval is up */
	uint64_t		 budget;	/* max_disk / worker_count */
	uint64_t		*c[PW_NCOUNTERS];

	/* File names: dir/pre{time}post, with {capture} and {worker} done. */
	size_t			 dirlen;
	size_t			 prelen, postlen;
	char			 pre[PW_NAME + 1];
	char			 post[PW_NAME + 1];
	char			 path[PW_PATH];	/* scratch */

	struct pw_old		*old;		/* [head, head + nold) */
	size_t			 head, nold, oldcap;
	uint64_t		 old_bytes;
	bool			 scanned;	/* old[] is the directory's */
	/* Offline: the file read, which max_disk never removes. */
	bool			 has_input;
	dev_t			 input_dev;
	ino_t			 input_ino;
	uint64_t		 rescan_at;	/* network time of the next list */

	bool			 blocked;	/* drop frames until a tick */
	bool			 failing;	/* a status is shown */
	struct pw_spell		 late;		/* frames past PW_TS_END */
	struct pw_spell		 big;		/* frames over RLIMIT_FSIZE */
};

/* pcapwriter.c */
int	pw_pattern(const char *pattern, const char *capture, unsigned worker,
	    char *pre, char *post, char *err, size_t errlen);

/* pcapwriter_file.c */
void	pw_mem_start(struct pw *);
void	pw_scan(struct pw *);
/*
 * Whether name, a file of the directory, is one of this worker's (pre, a
 * time, a sequence number, post), and its sequence number.  Anyone who can
 * write into the directory chooses the names pw_scan reads.
 */
bool	pw_name_seq(const struct pw *, const char *name, uint64_t *seq);
int	pw_reserve(struct pw *, uint64_t ts_ns, uint32_t rec);
/*
 * The frame's record of caplen bytes; with tag_off >= 0, the four bytes of
 * tag go in at tag_off (ringfan_stripped_tag).
 */
void	pw_append(struct pw *, const struct ringfan_packet *, uint32_t caplen,
	    int tag_off, const uint8_t *tag);
void	pw_drop(struct pw *, uint64_t frames, uint64_t bytes);
void	pw_late(struct pw *, uint64_t ts_ns, uint32_t rec);
void	pw_too_big(struct pw *, uint32_t rec);
void	pw_file_tick(struct pw *, uint64_t now_ns);
void	pw_file_stop(struct pw *);
void	pw_gauges(struct pw *);

#endif
