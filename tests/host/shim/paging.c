/* paging.c - common/paging.c for the host. The walk, map, unmap, protect and
 * translate are the kernel's own code; the two functions that know boot.asm's
 * tables are renamed out of the way, and the kernel's PML4 is the one
 * host_boot builds. */
#include "host.h"

#define paging_kernel_pml4 kernel_paging_kernel_pml4
#define paging_init        kernel_paging_init
#include "../../common/paging.c"
#undef paging_kernel_pml4
#undef paging_init

pte_t *paging_kernel_pml4(void);

pte_t *paging_kernel_pml4(void)
{
    return phys_to_virt(HOST_BOOT_PML4);
}
