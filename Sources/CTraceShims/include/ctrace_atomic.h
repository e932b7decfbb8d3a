// A flag one thread sets and others poll (the notify workers' "stopping"): real atomics, not plain loads and
// stores, so the compiler can neither cache nor tear the word.
#ifndef CTRACE_ATOMIC_H
#define CTRACE_ATOMIC_H

static inline void ct_flag_set(int *flag) { __atomic_store_n(flag, 1, __ATOMIC_RELEASE); }
static inline int ct_flag_get(const int *flag) { return __atomic_load_n(flag, __ATOMIC_ACQUIRE); }

#endif
