/* heap_shadow.c - tells AddressSanitizer where the heap's blocks end, so
 * that a write past a block is reported at the line that made it.
 *
 * The heap window is memory the MMU model maps (shim/memory.c): to the
 * sanitizer every byte of it is addressable. These wrappers stand between
 * every caller and the heap's own kmalloc, kmalloc_aligned and kheap_init,
 * the heap's internal calls included (kcalloc calling kmalloc): the build
 * weakens those three in the heap's object and names their code
 * host_real_* (host.mk), so the definitions here win. A block handed out
 * becomes addressable up to the size asked for, and the bytes from there
 * to the next KHEAP_MIN_ALIGN boundary, which no caller may touch, are
 * poisoned; a fresh heap makes the whole window addressable again.
 *
 * Only the bump heap (kheap.c) is built with these: the free-list heap
 * keeps its own redzones right after the blocks and reads them itself. */
#include <sanitizer/asan_interface.h>

#include "kheap.h"

void *host_real_kmalloc(size_t size);
void *host_real_kmalloc_aligned(size_t size, size_t align);
void host_real_kheap_init(void);

static void *handed_out(void *block, size_t size)
{
    uintptr_t start = (uintptr_t)block;
    if (block == NULL || start < KHEAP_START || start > KHEAP_END || size > KHEAP_END - start)
        return block; /* not a block of the window: the tests say so */
    uintptr_t end = start + size;
    ASAN_UNPOISON_MEMORY_REGION(block, size);
    ASAN_POISON_MEMORY_REGION((void *)end, MIN(ALIGN_UP(end, KHEAP_MIN_ALIGN), KHEAP_END) - end);
    return block;
}

void *kmalloc(size_t size)
{
    return handed_out(host_real_kmalloc(size), size);
}

void *kmalloc_aligned(size_t size, size_t align)
{
    return handed_out(host_real_kmalloc_aligned(size, align), size);
}

void kheap_init(void)
{
    host_real_kheap_init();
    ASAN_UNPOISON_MEMORY_REGION((void *)KHEAP_START, KHEAP_SIZE);
}
