// The seccomp programs libseccomp compiled ahead for captrace's common filter configurations
// (filters.generated.c, written by FilterBuilder.prebuiltSource; see Sources/Supervisor/FilterBuilder+Prebuilt.swift).
#ifndef CTRACE_PREBUILT_H
#define CTRACE_PREBUILT_H

#include <linux/filter.h>
#include <stdint.h>

typedef struct ct_prebuilt_filter {
    uint64_t rules_hash;  // FilterBuilder.rulesHash of the rules it was compiled from
    unsigned short len;
    const struct sock_filter *insns;
} ct_prebuilt_filter;

extern const ct_prebuilt_filter ct_prebuilt_filters[];
extern const int ct_prebuilt_filter_count;

#endif
