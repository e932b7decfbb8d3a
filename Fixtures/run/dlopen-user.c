/* dlopen-user.c LIBRARY — opens LIBRARY (libcapfix.so) with dlopen after start and calls its lib_enter().
 *
 * With --enter-at symbol:lib_enter the expected violations are exactly the marker "after": not "before" (before
 * dlopen) nor "loaded" (after dlopen, before the call), and not the dlopen's own open of LIBRARY.
 * One enter event with trigger "symbol:lib_enter". Exit status 0.
 */
#include "fixture.h"
#include <dlfcn.h>

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: dlopen-user LIBRARY\n"); return 2; }
    mark("before");
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 99; }
    mark("loaded");
    void (*f)(void) = (void (*)(void))dlsym(h, "lib_enter");
    if (!f) { fprintf(stderr, "dlsym: %s\n", dlerror()); return 99; }
    f();
    mark("after");
    return 0;
}
