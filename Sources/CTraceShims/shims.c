#define _GNU_SOURCE
#include "ctrace_shims.h"
