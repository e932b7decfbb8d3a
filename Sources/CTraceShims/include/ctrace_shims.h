// CTraceShims: the process mechanisms Swift cannot reach directly (variadic ptrace, GNU extensions, ioctl macros,
// the child's fork -> seccomp -> exec path, which must not run Swift code after fork), for Supervisor.
// The unwinding and ELF layer is CUnwindShims; helpers only tests call are in Tests/CTestSupport.
// Every symbol is prefixed `ct_`. Each function says why it exists.
#ifndef CTRACE_SHIMS_H
#define CTRACE_SHIMS_H

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include "ctrace_ptrace.h"
#include "ctrace_notify.h"
#include "ctrace_atomic.h"
#include "ctrace_self.h"
#include "ctrace_landlock.h"

#endif
