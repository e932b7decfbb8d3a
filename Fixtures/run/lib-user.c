/* lib-user.c — linked against libcapfix.so; enters at a function of a shared library.
 *
 * With --enter-at symbol:lib_enter the expected violations are exactly the marker "after" (not "before"),
 * one enter event with trigger "symbol:lib_enter". Exit status 0.
 */
#include "fixture.h"

void lib_enter(void);

int main(void) {
    mark("before");
    lib_enter();
    mark("after");
    return 0;
}
