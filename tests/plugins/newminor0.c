/*
 * newminor0: newminor's ABI 2.3 struct with the field this host lacks left
 * zero: the plugin does not use the feature, so a 2.2 host loads it.
 */
#define NEWMINOR_NAME		"newminor0"
#define NEWMINOR_BATCH_MAX	0

#include "newminor.c"
