/* librfdep: the library origindep finds beside itself. */
#include "rfdep.h"

void
rfdep_count(uint64_t *n)
{
	++*n;
}
