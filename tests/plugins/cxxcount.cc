/*
 * cxxcount: a test plugin written in C++11.  Building it proves that both
 * public headers compile as C++ (pedantic, no extensions) and loading it
 * that a C++ object exports ringfan_plugin under its C name.  It counts
 * frames by IP version with the decoder, and shows the capture's link type
 * and snapshot length as gauges.
 */
#include <new>

#include <ringfan/plugin.h>
#include <ringfan/decode.h>

namespace {

class ip_counts {
public:
	explicit ip_counts(struct ringfan_ctx *ctx) noexcept
	    : v4_(ctx->counter(ctx, "ipv4")), v6_(ctx->counter(ctx, "ipv6")),
	      other_(ctx->counter(ctx, "other")),
	      undecoded_(ctx->counter(ctx, "undecoded")) {}

	bool
	ok() const noexcept
	{
		return v4_ != nullptr && v6_ != nullptr && other_ != nullptr &&
		    undecoded_ != nullptr;
	}

	void
	count(const struct ringfan_packet *pkt) noexcept
	{
		struct ringfan_decoded d;

		if (ringfan_decode(pkt, &d) != 0)
			++*undecoded_;
		else if (d.ip_version == 4)
			++*v4_;
		else if (d.ip_version == 6)
			++*v6_;
		else
			++*other_;
	}

private:
	uint64_t	*v4_, *v6_, *other_, *undecoded_;
};

/* Exceptions must never cross into the host: nothing here throws. */
int
cxx_open(struct ringfan_ctx *ctx, void **state) noexcept
{
	uint64_t *linktype, *snaplen;
	ip_counts *c;

	if ((linktype = ctx->gauge(ctx, "linktype")) == nullptr ||
	    (snaplen = ctx->gauge(ctx, "snaplen")) == nullptr)
		return RINGFAN_FAIL;
	*linktype = static_cast<uint64_t>(ctx->linktype);
	*snaplen = ctx->snaplen;
	if ((c = new (std::nothrow) ip_counts(ctx)) == nullptr) {
		ctx->error(ctx, "out of memory");
		return RINGFAN_RETRY;
	}
	if (!c->ok()) {
		delete c;
		return RINGFAN_FAIL;
	}
	*state = c;
	return RINGFAN_OK;
}

int
cxx_packet(void *state, const struct ringfan_packet *pkt) noexcept
{
	static_cast<ip_counts *>(state)->count(pkt);
	return RINGFAN_CONTINUE;
}

void
cxx_close(void *state) noexcept
{
	delete static_cast<ip_counts *>(state);
}

} // namespace

/*
 * Before C++20 there are no designated initialisers: the fields go in the
 * header's order.  `extern` is needed: a const object at namespace scope
 * has internal linkage in C++, and dlsym() would not find it.
 */
extern "C" {
RINGFAN_EXPORT extern const struct ringfan_plugin ringfan_plugin = {
	RINGFAN_PLUGIN_ABI,
	sizeof(struct ringfan_plugin),
	"cxxcount",				/* name */
	"1.0",					/* version */
	"test: a C++ plugin, counts frames by IP version",
	nullptr,				/* check */
	cxx_open,
	cxx_packet,
	nullptr,				/* batch */
	nullptr,				/* tick */
	cxx_close,
	nullptr,				/* prefetch */
};
}
