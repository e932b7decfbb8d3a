/* remap-fork.c LIBA LIBB — loads LIBA (libremap.c built with one path), forks a child that waits on a pipe without
 * a trapped call, then closes LIBA and loads LIBB, usually where LIBA was (both addresses printed:
 * "lib_call a ADDRESS", "lib_call b ADDRESS"), calls LIBB's lib_call, and only then lets the child go; the child
 * calls LIBA's lib_call, still mapped in its copy of the address space, and exits. Exit status 0.
 *
 * A supervisor that starts the child's unwinder from its parent's when the child first shows up (notify has no fork
 * event) must not hand it what the parent learned after the fork: the child would get LIBB's frames for LIBA's code.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

typedef int (*call_fn)(void);

static call_fn load(const char *lib, void **h) {
    *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!*h) { fprintf(stderr, "dlopen: %s\n", dlerror()); _exit(99); }
    call_fn f = (call_fn)dlsym(*h, "lib_call");
    if (!f) { fprintf(stderr, "dlsym: %s\n", dlerror()); _exit(99); }
    return f;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: remap-fork LIBA LIBB\n"); return 2; }
    void *ha, *hb;
    call_fn a = load(argv[1], &ha);
    int go[2];
    if (pipe(go) != 0) { perror("pipe"); return 99; }
    pid_t child = fork();
    if (child < 0) { perror("fork"); return 99; }
    if (child == 0) {
        char c;
        close(go[1]);
        if (read(go[0], &c, 1) != 1) _exit(98);
        a();
        _exit(0);
    }
    close(go[0]);
    printf("lib_call a %p\n", (void *)a);
    dlclose(ha);
    call_fn b = load(argv[2], &hb);
    printf("lib_call b %p\n", (void *)b);
    fflush(stdout);
    b();
    if (write(go[1], "g", 1) != 1) { perror("write"); return 99; }
    int st;
    if (waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return 97;
    return 0;
}
