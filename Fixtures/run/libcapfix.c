/* libcapfix.c — a shared library whose function lib_enter() is the trigger of lib-user.c (linked at build
 * time) and dlopen-user.c (opened with dlopen after start). Built at test time with -shared -fPIC. */
__attribute__((noinline, used)) void lib_enter(void) { __asm__ volatile("" ::: "memory"); }
