/* Shared helpers for the `captrace run` fixtures (included by exactly one file of each program).
 *
 * Markers: mark("TAG") calls access("<cwd>/mark-TAG", F_OK), an absolute-path lookup that is a filesystem
 * violation in capability mode (the file does not exist: the call fails with ENOENT in every mode, so it changes
 * nothing). Tests find the stages a program reached after entry by the TAGs in the trace's violation paths.
 * cap_enter() is an empty function the tests name with --enter-at symbol:cap_enter, the way a real program
 * would call Capsicum's cap_enter(2) once it holds what it needs.
 */
#ifndef CAPTRACE_FIXTURE_H
#define CAPTRACE_FIXTURE_H
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((noinline, used)) void cap_enter(void) { __asm__ volatile("" ::: "memory"); }

static char fixture_cwd[PATH_MAX];

/* The current directory, read once (getcwd names nothing: it is not a violation). */
__attribute__((unused)) static const char *cwd(void) {
    if (!fixture_cwd[0] && !getcwd(fixture_cwd, sizeof fixture_cwd)) { perror("getcwd"); exit(99); }
    return fixture_cwd;
}

__attribute__((unused)) static void mark(const char *tag) {
    char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/mark-%s", cwd(), tag);
    (void)access(p, F_OK);
}

#define CHECK(expr) do { if (!(expr)) { fprintf(stderr, "fixture: %s failed: %s (line %d)\n", #expr, \
    strerror(errno), __LINE__); exit(99); } } while (0)

/* The errno of a failed call by name ("EPERM"), or "ok". */
__attribute__((unused)) static const char *outcome(long r) { return r < 0 ? strerrorname_np(errno) : "ok"; }

#endif
