#include "prebuilt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctrace_ptrace.h"

int ct_prebuilt_filter_copy(uint64_t rules_hash, ct_bpf *out) {
    for (int i = 0; i < ct_prebuilt_filter_count; i++) {
        const ct_prebuilt_filter *f = &ct_prebuilt_filters[i];
        if (f->rules_hash != rules_hash) continue;
        size_t size = (size_t)f->len * sizeof(struct sock_filter);
        void *buf = malloc(size);
        if (buf == NULL) return -ENOMEM;
        memcpy(buf, f->insns, size);
        out->filter = buf;
        out->len = f->len;
        return 0;
    }
    return -ENOENT;
}
