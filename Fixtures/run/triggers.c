/* triggers.c — the exec, main, symbol:NAME and syscall:NAME triggers on one program.
 *
 * It touches a marker (see fixture.h) at each stage:
 *   ctor           in a constructor, before main
 *   main           first thing in main
 *   after-symbol   after the first call of trigger_here()
 *   after-syscall  after the first getppid()
 * Expected violations (absolute-path lookups of the markers, pid = the program's):
 *   --enter-at exec                  ctor, main, after-symbol, after-syscall, and the dynamic loader's opens
 *   --enter-at main                  main, after-symbol, after-syscall (also built as a stripped PIE: -pie -s)
 *   --enter-at symbol:trigger_here   after-symbol, after-syscall
 *   --enter-at syscall:getppid       after-syscall
 * and exactly one enter event naming the trigger. Exit status 0.
 */
#include "fixture.h"

__attribute__((noinline, used)) void trigger_here(void) { __asm__ volatile("" ::: "memory"); }

__attribute__((constructor)) static void before_main(void) { mark("ctor"); }

int main(void) {
    mark("main");
    trigger_here();
    mark("after-symbol");
    printf("ppid=%d\n", (int)getppid());
    mark("after-syscall");
    return 0;
}
