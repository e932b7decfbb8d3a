/* seccomp-loader.c PROGRAM [ARG...] — built together with the C file `captrace suggest --format libseccomp`
 * wrote: installs that filter with captrace_install_filter() and execs PROGRAM under it, so the kernel enforces
 * the suggested profile from exec, as a container runtime would. No captrace is involved.
 * Exit status: PROGRAM's; 125 when the filter cannot be installed; 127 when the exec fails.
 */
#include <stdio.h>
#include <unistd.h>

int captrace_install_filter(void);

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: seccomp-loader PROGRAM [ARG...]\n"); return 2; }
    int rc = captrace_install_filter();
    if (rc != 0) { fprintf(stderr, "seccomp-loader: captrace_install_filter: %d\n", rc); return 125; }
    execv(argv[1], argv + 1);
    return 127;  /* nothing else may be allowed here: no message */
}
