// The macros of <ringfan/plugin.h> expand in a plugin's own code, so a C++
// plugin built with the style warnings of C++ (-Wold-style-cast and the
// like, under -Werror) must find nothing of C in them: compiled with those,
// this fails the build when one of them holds a C cast.
#include <ringfan/plugin.h>

extern "C" {
RINGFAN_EXPORT extern const struct ringfan_plugin macros_cxx;
}

int	macros_cxx_open(struct ringfan_ctx *, void **) noexcept;
int	macros_cxx_packet(void *, const struct ringfan_packet *) noexcept;

int
macros_cxx_open(struct ringfan_ctx *ctx, void **state) noexcept
{
	// A host of this major, of this minor or a later one.
	if (ctx->abi >> 16 != RINGFAN_PLUGIN_ABI >> 16 ||
	    ctx->abi < RINGFAN_PLUGIN_ABI)
		return RINGFAN_FAIL;
	*state = nullptr;
	return RINGFAN_OK;
}

int
macros_cxx_packet(void *, const struct ringfan_packet *pkt) noexcept
{
	if ((pkt->flags & RINGFAN_PKT_TRUNCATED) != 0)
		return RINGFAN_STOP;
	return RINGFAN_CONTINUE;
}

const struct ringfan_plugin macros_cxx = {
	RINGFAN_PLUGIN_ABI, sizeof(struct ringfan_plugin),
	"macros_cxx", "1.0", "macros in C++",
	nullptr, macros_cxx_open, macros_cxx_packet, nullptr,
	nullptr, nullptr, nullptr,
};
