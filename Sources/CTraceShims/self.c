// ct_self_build_id: see ctrace_self.h.
#define _GNU_SOURCE
#include "ctrace_self.h"

#include <elf.h>
#include <link.h>
#include <string.h>

struct want { uint8_t *buf; int cap; int len; };

static int first_object(struct dl_phdr_info *info, size_t size, void *arg) {
    (void)size;
    struct want *w = arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE) continue;
        const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;
        while (p + sizeof(ElfW(Nhdr)) <= end) {
            const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
            const uint8_t *name = p + sizeof *n;
            const uint8_t *desc = name + ((n->n_namesz + 3) & ~3u);
            const uint8_t *next = desc + ((n->n_descsz + 3) & ~3u);
            if (next > end) break;
            if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 && memcmp(name, "GNU", 4) == 0 && n->n_descsz > 0) {
                int len = (int)n->n_descsz < w->cap ? (int)n->n_descsz : w->cap;
                memcpy(w->buf, desc, (size_t)len);
                w->len = len;
                return 1;
            }
            p = next;
        }
    }
    return 1;  // only the executable itself
}

int ct_self_build_id(uint8_t *buf, int cap) {
    struct want w = {buf, cap, 0};
    if (cap <= 0) return 0;
    dl_iterate_phdr(first_object, &w);
    return w.len;
}
