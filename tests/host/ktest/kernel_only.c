/* kernel_only.c - the tests the host build reports as "kernel only": what
 * they check has no meaning in a process (tests/host/README.md says what
 * the shim does give a meaning to). Every name here is a test in some
 * lessons/NN-name/tests*.c (the host-ktest self-test checks it). */
#include <string.h>

#include "kernel_only.h"

static const struct {
    const char *name;
    const char *why;
} kernel_only[] = {
    /* lessons/15-kheap/tests_paging.c */
    {"paging_map_refuses_writable_kernel_image_frames",
     "the process has no kernel image: no frame of the host's RAM holds its code or constants"},
    {"kernel_code_is_read_only_through_every_mapping",
     "the process has no kernel image: its code is mapped by Linux, not by the lab's page tables"},
    {"kernel_constants_are_read_only_through_every_mapping",
     "the process has no kernel image: its constants are mapped by Linux, not by the lab's page "
     "tables"},
};

const char *kernel_only_reason(const char *name)
{
    for (size_t i = 0; i < sizeof(kernel_only) / sizeof(kernel_only[0]); i++) {
        if (strcmp(kernel_only[i].name, name) == 0)
            return kernel_only[i].why;
    }
    return NULL;
}
