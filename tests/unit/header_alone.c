/* Compiled alone with -std=c11 -pedantic: the plugin header needs nothing else. */
#include <ringfan/plugin.h>

extern const struct ringfan_plugin probe;
