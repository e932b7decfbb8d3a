// A flag one thread sets and others poll (the notify workers' "stopping"), and a counter one or more threads bump
// while another reads it (ProgramPins' stops): real atomics, not plain loads and stores, so the compiler can
// neither cache nor tear the word. The counter is relaxed: its reader only compares it with its previous value.
#ifndef CTRACE_ATOMIC_H
#define CTRACE_ATOMIC_H

static inline void ct_flag_set(int *flag) { __atomic_store_n(flag, 1, __ATOMIC_RELEASE); }
static inline int ct_flag_get(const int *flag) { return __atomic_load_n(flag, __ATOMIC_ACQUIRE); }
static inline void ct_flag_clear(int *flag) { __atomic_store_n(flag, 0, __ATOMIC_RELEASE); }
static inline void ct_count_add(long *count) { __atomic_fetch_add(count, 1, __ATOMIC_RELAXED); }
static inline long ct_count_get(const long *count) { return __atomic_load_n(count, __ATOMIC_RELAXED); }

#endif
