/* gate.c — the baseline gate: the same program, with and without one more violation.
 *
 * After cap_enter() it touches marker "a" (an absolute-path lookup, a filesystem violation). With the argument
 * "new" it also touches marker "b" from another function. Tests record the first form, make a baseline with
 * `captrace suggest --format allowlist`, and expect `run --allow BASELINE --fail-on-violation` to exit 0 on
 * the first form (marker "a" judged allowed-by-baseline) and 3 on the second, naming the new site.
 */
#include "fixture.h"

__attribute__((noinline)) static void known(void) { mark("a"); }
__attribute__((noinline)) static void added(void) { mark("b"); }

int main(int argc, char **argv) {
    cwd();
    cap_enter();
    known();
    if (argc > 1 && !strcmp(argv[1], "new")) added();
    return 0;
}
