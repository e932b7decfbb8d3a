/* remap.c LIBRARY... — for each LIBRARY in turn: dlopen it, print where its lib_call is ("lib_call LIBRARY ADDRESS"),
 * call it (it opens the path it was built with), dlclose it.
 *
 * Two builds of libremap.c that differ only in that path have the same layout: closed and opened in turn, each is
 * usually mapped exactly where the other was (the printed addresses say whether it was). A tracer that names frames
 * by address must then see that the code there changed. Exit status 0.
 */
#include <dlfcn.h>
#include <stdio.h>

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        void *h = dlopen(argv[i], RTLD_NOW | RTLD_LOCAL);
        if (!h) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 99; }
        int (*f)(void) = (int (*)(void))dlsym(h, "lib_call");
        if (!f) { fprintf(stderr, "dlsym: %s\n", dlerror()); return 99; }
        printf("lib_call %s %p\n", argv[i], (void *)f);
        fflush(stdout);
        f();
        dlclose(h);
    }
    return 0;
}
