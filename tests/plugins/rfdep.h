/* librfdep: origindep's own library. */
#ifndef RFDEP_H
#define RFDEP_H

#include <stdint.h>

/* Exported: the project builds with -fvisibility=hidden. */
__attribute__((visibility("default"))) void rfdep_count(uint64_t *n);

#endif
