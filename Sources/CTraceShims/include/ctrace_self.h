// What captrace knows about its own executable.
#ifndef CTRACE_SELF_H
#define CTRACE_SELF_H

#include <stdint.h>

/// The GNU build-id of the running executable (the first object dl_iterate_phdr reports), read from its
/// PT_NOTE segments in memory: no file is opened. Writes at most `cap` bytes; returns the build-id's length,
/// or 0 when the executable has none. Why C: dl_iterate_phdr's callback and the note layout.
int ct_self_build_id(uint8_t *buf, int cap);

#endif
