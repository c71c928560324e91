/*
 * nosymbol: a well-formed shared object that is not a plugin, since it
 * exports no ringfan_plugin.  The loader must say so rather than crash.
 */
#include <ringfan/plugin.h>

RINGFAN_EXPORT int	nosymbol_answer(void);

RINGFAN_EXPORT int
nosymbol_answer(void)
{
	return 42;
}
