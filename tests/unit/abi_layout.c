/*
 * The plugin ABI's layout, pinned: the offset and size of every field of
 * the public structs, as a plugin built against this header sees them.  A
 * field moved, retyped or inserted breaks every plugin built before it,
 * and only a new major may do that: this stops the build instead.  A new
 * minor appends fields: add them here.  Compiled as C11 and, by
 * abi_layout.cc, as C++11, which must agree (no bool, enum or long in a
 * struct).  The offsets are LP64's (x86-64, arm64, riscv64, ppc64le...)
 * and i386's.
 */
#include <ringfan/plugin.h>
#include <ringfan/decode.h>

#ifdef __cplusplus
#define ABI_ASSERT(c, m)	static_assert(c, m)
#else
#define ABI_ASSERT(c, m)	_Static_assert(c, m)
#endif

#define ABI_FIELD(s, f, off, size)					\
	ABI_ASSERT(offsetof(struct s, f) == (off) &&			\
	    sizeof(((struct s *)0)->f) == (size), #s "." #f)
#define ABI_SIZE(s, size)						\
	ABI_ASSERT(sizeof(struct s) == (size), "sizeof(struct " #s ")")

/* The ABI's numbers: changing one breaks built plugins too. */
ABI_ASSERT(RINGFAN_PLUGIN_ABI_MAJOR == 2, "major");
ABI_ASSERT(RINGFAN_PKT_VLAN_VALID == 1 && RINGFAN_PKT_TPID_VALID == 2 &&
    RINGFAN_PKT_TRUNCATED == 4, "RINGFAN_PKT_");
ABI_ASSERT(RINGFAN_CTX_OFFLINE == 1 && RINGFAN_CTX_CHECK == 2 &&
    RINGFAN_CTX_FLOW_SPLIT == 4, "RINGFAN_CTX_");
ABI_ASSERT(RINGFAN_CONTINUE == 0 && RINGFAN_STOP == 1, "verdict");
ABI_ASSERT(RINGFAN_OK == 0 && RINGFAN_FAIL == -1 && RINGFAN_RETRY == -2,
    "result");
ABI_ASSERT(RINGFAN_LOG_ERROR == 0 && RINGFAN_LOG_WARN == 1 &&
    RINGFAN_LOG_INFO == 2 && RINGFAN_LOG_DEBUG == 3, "log level");
ABI_ASSERT(RINGFAN_MEMORY_NONE == 0 && RINGFAN_MEMORY_FRESH == 1 &&
    RINGFAN_MEMORY_RECOVERED == 2, "memory state");

/* The decoder's result is the plugin's own, the same everywhere. */
ABI_FIELD(ringfan_decoded, flags, 0, 4);
ABI_FIELD(ringfan_decoded, ethertype, 4, 2);
ABI_FIELD(ringfan_decoded, vlan, 6, 4);
ABI_FIELD(ringfan_decoded, frag_off, 10, 2);
ABI_FIELD(ringfan_decoded, sport, 12, 2);
ABI_FIELD(ringfan_decoded, dport, 14, 2);
ABI_FIELD(ringfan_decoded, nvlan, 16, 1);
ABI_FIELD(ringfan_decoded, ip_version, 17, 1);
ABI_FIELD(ringfan_decoded, proto, 18, 1);
ABI_FIELD(ringfan_decoded, ip6_ext, 19, 1);
ABI_FIELD(ringfan_decoded, tos, 20, 1);
ABI_FIELD(ringfan_decoded, ttl, 21, 1);
ABI_FIELD(ringfan_decoded, tcp_flags, 22, 1);
ABI_FIELD(ringfan_decoded, reserved, 23, 1);
ABI_FIELD(ringfan_decoded, ip_len, 24, 4);
ABI_FIELD(ringfan_decoded, flow_label, 28, 4);
ABI_FIELD(ringfan_decoded, frag_id, 32, 4);
ABI_FIELD(ringfan_decoded, l3_off, 36, 4);
ABI_FIELD(ringfan_decoded, l4_off, 40, 4);
ABI_FIELD(ringfan_decoded, payload_off, 44, 4);
ABI_FIELD(ringfan_decoded, src, 48, 16);
ABI_FIELD(ringfan_decoded, dst, 64, 16);
ABI_SIZE(ringfan_decoded, 80);

/*
 * Every LP64 Linux ABI aligns a uint64_t to 8, as x86-64 and arm64 do;
 * i386 aligns it to 4, and other 32-bit ones (armhf: 8) are not pinned.
 */
#if defined(__i386__)
#define P	4
#elif __SIZEOF_POINTER__ == 8 && __SIZEOF_LONG__ == 8
#define P	8	/* the size of a pointer */
#endif

#ifdef P
ABI_FIELD(ringfan_packet, data, 0, P);
ABI_FIELD(ringfan_packet, caplen, P, 4);
ABI_FIELD(ringfan_packet, len, P + 4, 4);
ABI_FIELD(ringfan_packet, ts_ns, P + 8, 8);
ABI_FIELD(ringfan_packet, rxhash, P + 16, 4);
ABI_FIELD(ringfan_packet, vlan_tci, P + 20, 2);
ABI_FIELD(ringfan_packet, vlan_tpid, P + 22, 2);
ABI_FIELD(ringfan_packet, pkttype, P + 24, 1);
ABI_FIELD(ringfan_packet, flags, P + 25, 1);
ABI_FIELD(ringfan_packet, linktype, P + 26, 2);
ABI_FIELD(ringfan_packet, reserved, P + 28, 4);
ABI_SIZE(ringfan_packet, P + 32);

/* 20 bytes of numbers; on LP64 a hole of 4 before the first pointer. */
#define CTX_S	(20 + (P - 4))
ABI_FIELD(ringfan_ctx, abi, 0, 4);
ABI_FIELD(ringfan_ctx, size, 4, 4);
ABI_FIELD(ringfan_ctx, flags, 8, 4);
ABI_FIELD(ringfan_ctx, worker_id, 12, 4);
ABI_FIELD(ringfan_ctx, worker_count, 16, 4);
ABI_FIELD(ringfan_ctx, capture, CTX_S, P);
ABI_FIELD(ringfan_ctx, interface, CTX_S + P, P);
ABI_FIELD(ringfan_ctx, linktype, CTX_S + 2 * P, 4);
ABI_FIELD(ringfan_ctx, snaplen, CTX_S + 2 * P + 4, 4);
ABI_FIELD(ringfan_ctx, memory, CTX_S + 2 * P + 8, P);
#define CTX_M	(CTX_S + 3 * P + 8)
ABI_FIELD(ringfan_ctx, memory_size, CTX_M, 8);
ABI_FIELD(ringfan_ctx, memory_state, CTX_M + 8, 4);
ABI_FIELD(ringfan_ctx, memory_layout, CTX_M + 12, 4);
#define CTX_F	(CTX_M + 16)
ABI_FIELD(ringfan_ctx, opt_string, CTX_F, P);
ABI_FIELD(ringfan_ctx, opt_uint, CTX_F + P, P);
ABI_FIELD(ringfan_ctx, opt_bool, CTX_F + 2 * P, P);
ABI_FIELD(ringfan_ctx, opt_size, CTX_F + 3 * P, P);
ABI_FIELD(ringfan_ctx, opt_duration, CTX_F + 4 * P, P);
ABI_FIELD(ringfan_ctx, counter, CTX_F + 5 * P, P);
ABI_FIELD(ringfan_ctx, gauge, CTX_F + 6 * P, P);
ABI_FIELD(ringfan_ctx, memory_request, CTX_F + 7 * P, P);
ABI_FIELD(ringfan_ctx, tick_period, CTX_F + 8 * P, P);
ABI_FIELD(ringfan_ctx, log, CTX_F + 9 * P, P);
ABI_FIELD(ringfan_ctx, error, CTX_F + 10 * P, P);
ABI_FIELD(ringfan_ctx, status, CTX_F + 11 * P, P);
ABI_FIELD(ringfan_ctx, host, CTX_F + 12 * P, P);
ABI_SIZE(ringfan_ctx, CTX_F + 13 * P);

ABI_FIELD(ringfan_plugin, abi, 0, 4);
ABI_FIELD(ringfan_plugin, size, 4, 4);
ABI_FIELD(ringfan_plugin, name, 8, P);
ABI_FIELD(ringfan_plugin, version, 8 + P, P);
ABI_FIELD(ringfan_plugin, description, 8 + 2 * P, P);
ABI_FIELD(ringfan_plugin, check, 8 + 3 * P, P);
ABI_FIELD(ringfan_plugin, open, 8 + 4 * P, P);
ABI_FIELD(ringfan_plugin, packet, 8 + 5 * P, P);
ABI_FIELD(ringfan_plugin, batch, 8 + 6 * P, P);
ABI_FIELD(ringfan_plugin, tick, 8 + 7 * P, P);
ABI_FIELD(ringfan_plugin, close, 8 + 8 * P, P);
ABI_FIELD(ringfan_plugin, prefetch, 8 + 9 * P, P);	/* 2.2 */
ABI_SIZE(ringfan_plugin, 8 + 10 * P);
#endif
