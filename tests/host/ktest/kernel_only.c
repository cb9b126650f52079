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
    /* lessons/16-vmm/tests.c */
    {"fault_description_names_cause_and_place",
     "it writes the kernel image's constants, and the host has no kernel image"},
    {"null_pointer_fault_is_counted_and_named",
     "the VMM counts faults in its exception handler, which a caught SIGSEGV does not enter"},
    {"two_spaces_see_different_data_at_one_address",
     "it uses the lower half as a user space, and the host's lower half is the process's own"},
    {"kernel_half_is_identical_in_every_space",
     "it maps a page of the upper half, which a process cannot map"},
    {"unmap_is_visible_at_once",
     "it maps pages of the upper half and the user half, which the MMU model does not serve"},
    {"map_and_unmap_reject_bad_input",
     "it reads the direct map's 2 MiB pages at the kernel's address; the host's RAM is elsewhere"},
    {"valloc_memory_is_not_executable",
     "the host's page faults carry no instruction-fetch bit (PF_FETCH)"},
    {"map_refuses_unsafe_flags",
     "it maps into the direct map and the user half, which the MMU model does not serve"},
};

const char *kernel_only_reason(const char *name)
{
    for (size_t i = 0; i < sizeof(kernel_only) / sizeof(kernel_only[0]); i++) {
        if (strcmp(kernel_only[i].name, name) == 0)
            return kernel_only[i].why;
    }
    return NULL;
}
