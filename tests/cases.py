"""Proof that the tests can fail.

MUTANTS are small deliberate bugs in the reference solutions, the kind a
student might write; each must build (a mutant the compiler rejects proves
nothing about the tests) and lose points, and `caught_by` names tests that
must be among the failures. PATHOLOGICAL kernels misbehave as a whole (hang,
crash, flood the log, lie); each must get a clear verdict and never full marks.

A case edits one file of a pristine lab copy: `find` must occur exactly once
in it and is replaced by `replace`."""

from dataclasses import dataclass, field, replace


@dataclass
class Case:
    name: str
    lesson: str
    path: str              # the file to edit, relative to the lab
    find: str
    replace: str
    caught_by: list = field(default_factory=list)  # tests that must fail
    verdict: str = ""      # a regular expression the report must contain
    kernel: str = "solution"  # which build to grade: solution or lesson (starter)
    same_score_as_starter: bool = False
    emu: str = "qemu"
    must_build: bool = True  # a mutant the compiler rejects proves nothing about the tests


PMM = "solutions/14-pmm/pmm.c"

# Lesson 14: every practice and homework test is among the caught_by of at
# least one of these.
MUTANTS = [
    Case("storage size counts one bitmap", "14-pmm", PMM,
         "    return 2 * words * sizeof(uint64_t);", "    return words * sizeof(uint64_t);",
         caught_by=["storage_size_covers_both_bitmaps"]),
    Case("gaps between regions count as RAM", "14-pmm", PMM,
         "memset(pmm.used, 0xFF, words * sizeof(uint64_t));",
         "memset(pmm.used, 0, words * sizeof(uint64_t));",
         caught_by=["map_usable_region_frames_are_free"]),
    Case("regions applied in map order", "14-pmm", PMM,
         "        frames_inside(map[i].base, region_end(map[i].base, map[i].length), &first, &last);\n"
         "        mark_frames(first, last, false);\n    }\n"
         "    for (size_t i = 0; i < map_count; i++) { /* where nothing else claims it. */\n"
         "        if (map[i].type == MEMORY_USABLE)\n            continue;\n",
         "        frames_inside(map[i].base, region_end(map[i].base, map[i].length), &first, &last);\n"
         "        mark_frames(first, last, false);\n    }\n"
         "    for (size_t i = 0; i < map_count; i++) {\n"
         "        if (map[i].type == MEMORY_USABLE) {\n"
         "            frames_inside(map[i].base, region_end(map[i].base, map[i].length), &first,"
         " &last);\n"
         "            mark_frames(first, last, false);\n            continue;\n        }\n",
         caught_by=["map_overlapping_regions"]),
    Case("memory end taken from the last usable region", "14-pmm", PMM,
         "            end = MAX(end, region_end(map[i].base, map[i].length));",
         "            end = region_end(map[i].base, map[i].length);",
         caught_by=["map_unsorted_regions"]),
    Case("usable regions rounded outwards", "14-pmm", PMM,
         "    *first = (size_t)(start / PAGE_SIZE + (start % PAGE_SIZE != 0));\n"
         "    *last = (size_t)(end / PAGE_SIZE);",
         "    *first = (size_t)(start / PAGE_SIZE);\n"
         "    *last = (size_t)(end / PAGE_SIZE + (end % PAGE_SIZE != 0));",
         caught_by=["map_zero_length_and_unaligned_regions"]),
    Case("non-usable regions rounded inwards", "14-pmm", PMM,
         "        frames_touching(map[i].base, region_end(map[i].base, map[i].length), &first, &last);",
         "        frames_inside(map[i].base, region_end(map[i].base, map[i].length), &first, &last);",
         caught_by=["map_zero_length_and_unaligned_regions"]),
    Case("reserved ranges rounded inwards", "14-pmm", PMM,
         "        frames_touching(reserved[i].start, reserved[i].end, &first, &last);",
         "        frames_inside(reserved[i].start, reserved[i].end, &first, &last);",
         caught_by=["map_region_straddling_the_kernel"]),
    Case("empty ranges touch their frame", "14-pmm", PMM,
         "    *last = start >= end ? *first : (size_t)(end / PAGE_SIZE + (end % PAGE_SIZE != 0));",
         "    *last = (size_t)(end / PAGE_SIZE + (end % PAGE_SIZE != 0));",
         caught_by=["map_empty_reserved_entries_reserve_nothing"]),
    Case("frame count not capped by the storage", "14-pmm", PMM,
         "    pmm.frame_count = MIN(wanted, words * BITS_PER_WORD);",
         "    pmm.frame_count = wanted;",
         caught_by=["map_memory_beyond_the_bitmap_is_ignored"]),
    Case("previous state not forgotten", "14-pmm", PMM,
         "    memset(&pmm, 0, sizeof(pmm));\n", "",
         caught_by=["map_without_usable_memory"]),
    Case("frame 0 not kept back", "14-pmm", PMM,
         "    mark_frames(0, 1, true);", "",
         caught_by=["map_never_hands_out_frame_zero"]),
    Case("regions walked by offset, wrapping past 2^64", "14-pmm", PMM,
         "        frames_touching(map[i].base, region_end(map[i].base, map[i].length), &first, &last);\n"
         "        mark_frames(first, last, true);",
         "        for (uint64_t offset = 0; offset < map[i].length; offset += PAGE_SIZE) {\n"
         "            size_t frame = (size_t)((map[i].base + offset) / PAGE_SIZE);\n"
         "            mark_frames(frame, frame + 1, true);\n        }",
         caught_by=["map_region_wrapping_past_2_64"]),
    Case("frame handed out twice", "14-pmm", PMM,
         "        set_bit(pmm.used, frame);\n        pmm.next_search = frame + 1;",
         "        pmm.next_search = frame + 1;",
         caught_by=["alloc_hands_out_every_free_frame_once", "frames_never_inside_reserved_memory"]),
    Case("free does not count the frame", "14-pmm", PMM,
         "    clear_bit(pmm.used, frame);\n    pmm.stats.free_frames++;\n",
         "    clear_bit(pmm.used, frame);\n",
         caught_by=["free_makes_the_frame_available_again"]),
    Case("hint not moved back by a free", "14-pmm", PMM,
         "    if (frame < pmm.next_search)\n        pmm.next_search = frame; /* reuse low frames first */\n",
         "",
         caught_by=["free_makes_the_frame_available_again"]),
    Case("search does not wrap round", "14-pmm", PMM,
         "        size_t word = (pmm.next_search / BITS_PER_WORD + scanned) % words;",
         "        size_t word = MIN(pmm.next_search / BITS_PER_WORD + scanned, words - 1);",
         caught_by=["alloc_search_wraps_past_the_hint"]),
    Case("bitmap storage not reserved", "14-pmm", PMM,
         "    reserved[reserved_count++] = (struct phys_range){storage, storage + storage_size};\n",
         "",
         caught_by=["total_matches_memory_map", "bitmaps_are_in_usable_ram_and_reserved"]),
    Case("kernel image not reserved", "14-pmm", PMM,
         "        {(phys_addr_t)_kernel_phys_start, (phys_addr_t)_kernel_phys_end},\n",
         "",
         caught_by=["frames_never_inside_reserved_memory"]),
    Case("boot modules not reserved", "14-pmm", PMM,
         "        reserved[reserved_count++] =\n"
         "            (struct phys_range){boot_info.modules[i].start, boot_info.modules[i].end};",
         "        (void)i;",
         caught_by=["boot_modules_are_reserved"]),
    Case("page tables still from the boot pool", "14-pmm", PMM,
         "    paging_set_table_allocator(pmm_alloc_frame);\n", "",
         caught_by=["page_tables_come_from_the_pmm"]),
    Case("double free accepted", "14-pmm", PMM,
         "    if (!test_bit(pmm.used, frame))\n        return PMM_DOUBLE_FREE;\n",
         "",
         caught_by=["free_rejects_double_free"]),
    Case("frame past the end read from the bitmap", "14-pmm", PMM,
         "    if (frame >= pmm.frame_count)\n        return PMM_OUT_OF_RANGE;\n", "",
         caught_by=["free_rejects_bad_addresses"]),
    Case("reserved bitmap never filled", "14-pmm", PMM,
         "    memcpy(pmm.reserved, pmm.used, words * sizeof(uint64_t));\n",
         "    memset(pmm.reserved, 0, words * sizeof(uint64_t));\n",
         caught_by=["boot_modules_are_reserved", "free_rejects_bad_addresses"]),
    Case("contiguous run not marked used", "14-pmm", PMM,
         "            mark_frames(run_start, run_start + count, true);\n", "",
         caught_by=["alloc_frames_returns_a_contiguous_run"]),
    Case("contiguous run does not restart at a used frame", "14-pmm", PMM,
         "        if (test_bit(pmm.used, frame)) {\n            run_length = 0;\n            continue;\n        }",
         "        if (test_bit(pmm.used, frame))\n            continue;",
         caught_by=["alloc_frames_skips_holes"]),
    Case("run freed while it is checked", "14-pmm", PMM,
         "        if (status != PMM_OK)\n            return reject_free(first + i * PAGE_SIZE, status);\n    }\n"
         "    for (size_t i = 0; i < count; i++)\n        release(first + i * PAGE_SIZE);\n",
         "        if (status != PMM_OK)\n            return reject_free(first + i * PAGE_SIZE, status);\n"
         "        release(first + i * PAGE_SIZE);\n    }\n",
         caught_by=["alloc_frames_rejects_bad_requests"]),
    Case("allocations not counted", "14-pmm", PMM,
         "    pmm.stats.frames_allocated += frames;\n", "",
         caught_by=["stats_count_allocations_and_frees"]),
    Case("peak counter off by one", "14-pmm", PMM,
         "MAX(pmm.stats.peak_used_frames, used);",
         "MAX(pmm.stats.peak_used_frames, used - 1);",
         caught_by=["stats_track_peak_and_failures"]),
    Case("failed single allocations not counted", "14-pmm", PMM,
         "    pmm.stats.failed_allocations++;\n    return PMM_NO_FRAME;\n}\n\nphys_addr_t pmm_alloc_frames",
         "    return PMM_NO_FRAME;\n}\n\nphys_addr_t pmm_alloc_frames",
         caught_by=["stats_track_peak_and_failures"]),
]

KHEAP = "solutions/15-kheap/kheap.c"
FREELIST = "solutions/15-kheap/kheap_freelist.c"

MUTANTS += [
    # The bump heap: at least one mutant per practice and homework test.
    Case("blocks not rounded to 16 bytes", "15-kheap", KHEAP,
         "    block = ALIGN_UP(block, KHEAP_MIN_ALIGN);\n", "",
         caught_by=["stats_count_bytes_and_calls_exactly"]),
    Case("alignment off by 8", "15-kheap", KHEAP,
         "    size_t padding = (align - heap_curr % align) % align;",
         "    size_t padding = (align - (heap_curr + 8) % align) % align;",
         caught_by=["kmalloc_results_are_16_byte_aligned"]),
    Case("bump pointer moved 16 bytes short", "15-kheap", KHEAP,
         "    heap_curr = start + block;", "    heap_curr = start + block - KHEAP_MIN_ALIGN;",
         caught_by=["kmalloc_blocks_are_distinct_and_do_not_overlap"]),
    Case("kmalloc(0) takes no room", "15-kheap", KHEAP,
         "    size_t block = size == 0 ? 1 : size;", "    size_t block = size;",
         caught_by=["kmalloc_zero_returns_distinct_pointers"]),
    Case("only the block's first page mapped", "15-kheap", KHEAP,
         "    uintptr_t end = ALIGN_UP(start + block, PAGE_SIZE);",
         "    uintptr_t end = ALIGN_UP(start + 1, PAGE_SIZE);",
         caught_by=["every_returned_byte_is_writable"]),
    Case("whole window mapped at once", "15-kheap", KHEAP,
         "    if (end > heap_mapped && !map_up_to(end))",
         "    if (end > heap_mapped && !map_up_to(heap_end))",
         caught_by=["heap_pages_are_mapped_only_as_needed"]),
    Case("a page mapped ahead", "15-kheap", KHEAP,
         "    if (end > heap_mapped && !map_up_to(end))",
         "    if (end > heap_mapped && !map_up_to(MIN(end + PAGE_SIZE, heap_end)))",
         caught_by=["write_past_the_mapped_part_faults"]),
    Case("last bytes of the window never handed out", "15-kheap", KHEAP,
         "    if (block > room)\n        return NULL;", "    if (block >= room)\n        return NULL;",
         caught_by=["kmalloc_fills_the_window_exactly"]),
    Case("size check that wraps", "15-kheap", KHEAP,
         "    if (block > room)\n        return NULL;",
         "    if (heap_curr + padding + block > heap_end)\n        return NULL;",
         caught_by=["huge_sizes_return_null_without_wrapping"]),
    Case("kcalloc does not zero", "15-kheap", KHEAP,
         "        memset(block, 0, bytes);", "        (void)bytes;",
         caught_by=["kcalloc_zeroes_dirty_memory"]),
    Case("kcalloc product unchecked", "15-kheap", KHEAP,
         "    if (__builtin_mul_overflow(n, size, &bytes))",
         "    if ((bytes = n * size), false)",
         caught_by=["kcalloc_rejects_overflowing_products"]),
    Case("no rollback when mapping fails", "15-kheap", KHEAP,
         "    unmap_down_to(old_mapped);\n    return false;",
         "    (void)unmap_down_to;\n    (void)old_mapped;\n    return false;",
         caught_by=["failed_mapping_gives_frames_back"]),
    Case("kheap_init keeps the old frames", "15-kheap", KHEAP,
         "        if (paging_unmap(paging_kernel_pml4(), page, &frame) == PAGING_OK)\n"
         "            pmm_free_frame(frame);",
         "        (void)paging_unmap(paging_kernel_pml4(), page, &frame);",
         caught_by=["kheap_init_gives_every_frame_back"]),
    Case("kfree(NULL) counted", "15-kheap", KHEAP,
         "    if (ptr == NULL)\n        return;\n", "",
         caught_by=["kfree_counts_frees_and_ignores_null"]),
    Case("kfree does not check the free space", "15-kheap", KHEAP,
         "    else if (address >= heap_curr)\n"
         "        report_bad_free(address, \"in the heap's free space: never allocated\");\n",
         "",
         caught_by=["kfree_reports_foreign_pointers"]),
    Case("kfree does not check alignment", "15-kheap", KHEAP,
         "    else if (!IS_ALIGNED(address, KHEAP_MIN_ALIGN))\n"
         "        report_bad_free(address, \"not 16-byte aligned: not the start of a block\");\n",
         "",
         caught_by=["kfree_reports_misaligned_pointers"]),
    Case("padding computed for 16 bytes only", "15-kheap", KHEAP,
         "    size_t padding = (align - heap_curr % align) % align;",
         "    size_t padding = (KHEAP_MIN_ALIGN - heap_curr % KHEAP_MIN_ALIGN) % KHEAP_MIN_ALIGN;",
         caught_by=["kmalloc_aligned_honours_every_power_of_two"]),
    Case("alignment 0 accepted", "15-kheap", KHEAP,
         "    if (IS_POWER_OF_TWO(align))", "    if (align == 0 || IS_POWER_OF_TWO(align))",
         caught_by=["kmalloc_aligned_rejects_bad_alignments"]),
    Case("requested bytes off by one", "15-kheap", KHEAP,
         "        heap_stats.requested += size;", "        heap_stats.requested += size + 1;",
         caught_by=["stats_count_bytes_and_calls_exactly"]),
    Case("failures not counted", "15-kheap", KHEAP,
         "        heap_stats.failures++;\n", "",
         caught_by=["stats_count_failures_and_nothing_else"]),
    Case("a bad alignment refused without counting", "15-kheap", KHEAP,
         "    return allocate(size, align);",
         "    return IS_POWER_OF_TWO(align) ? allocate(size, align) : NULL;",
         caught_by=["stats_include_alignment_padding"]),
    Case("redzone not checked", "15-kheap", FREELIST,
         "            if (bad != 0)\n                report(KHEAP_REDZONE, slot, size, bad, "
         "\"written past the end of the block\");",
         "            (void)bad;",
         caught_by=["freelist/fl_redzone_overwrite_is_reported"]),
    Case("poison not checked on reuse", "15-kheap", FREELIST,
         "        else if (bad != 0)\n            report(KHEAP_USE_AFTER_FREE, slot, trailer->size, bad,\n"
         "                   \"freed memory was written before its reuse\");",
         "        else\n            (void)bad;",
         caught_by=["freelist/fl_write_after_free_is_reported"]),
    Case("slot found with a power-of-two mask", "15-kheap", FREELIST,
         "    uintptr_t slot = address - offset % slot_size;",
         "    uintptr_t slot = address - (offset & (slot_size - 1));",
         caught_by=["freelist/fl_halfway_classes_fit_closely"]),
    Case("class alignment ignored", "15-kheap", FREELIST,
         "    while (class_size(c) < bytes || class_alignment(c) < align)",
         "    while (class_size(c) < bytes || class_alignment(c) < KHEAP_MIN_ALIGN)",
         caught_by=["freelist/fl_halfway_classes_fit_closely"]),
    Case("unused end of a slab taken for a slot", "15-kheap", FREELIST,
         "    return offset % slot_size == 0 && offset + slot_size <= PAGE_SIZE;",
         "    return offset % slot_size == 0;",
         caught_by=["freelist/fl_halfway_classes_fit_closely"]),
    Case("double free accepted", "15-kheap", FREELIST,
         "        if (trailer->magic == SLOT_FREE) {\n            report(KHEAP_DOUBLE_FREE, slot, size, "
         "address, \"the block is free already\");\n            return;\n        }\n", "",
         caught_by=["freelist/fl_double_free_is_reported"]),
]

VMM = "solutions/16-vmm/vmm.c"
VALLOC = "solutions/16-vmm/valloc.c"

MUTANTS += [
    Case("kernel-half change not flushed", "16-vmm", VMM,
         "    if (is_kernel_half(virt) || space == vmm_current())",
         "    if (space == vmm_current())",
         caught_by=["unmap_is_visible_at_once"]),
    Case("vmm_protect does not flush", "16-vmm", VMM,
         "    flush(space, virt); /* the TLB may hold the old rights: a write would pass */\n", "",
         caught_by=["protect_changes_permissions_at_once"]),
    Case("W^X not enforced", "16-vmm", VMM,
         "    if ((flags & PTE_WRITABLE) && !(flags & PTE_NO_EXECUTE))\n        return VMM_BAD_FLAGS;",
         "", caught_by=["map_refuses_unsafe_flags"]),
    Case("destroy frees only the PDPTs", "16-vmm", VMM,
         "            free_table(space[i], 3);",
         "            (void)free_table, pmm_free_frame(pte_address(space[i]));",
         caught_by=["destroy_frees_every_table_of_the_space"]),
    Case("no-execute bit dropped", "16-vmm", VMM,
         "    *entry = phys | flags | PTE_PRESENT;",
         "    *entry = phys | (flags & ~PTE_NO_EXECUTE) | PTE_PRESENT;",
         caught_by=["valloc_memory_is_not_executable"]),
    Case("pages mapped into the current space, not the given one", "16-vmm", VMM,
         "    pte_t *entry = paging_walk(space, virt, true);",
         "    pte_t *entry = paging_walk(vmm_current(), virt, true);",
         caught_by=["two_spaces_see_different_data_at_one_address"]),
    Case("spaces not counted", "16-vmm", VMM,
         "    vmm_stats.spaces++;\n", "",
         caught_by=["kernel_half_is_identical_in_every_space"]),
    Case("unmap gives the frame back to the PMM", "16-vmm", VMM,
         "        *frame = pte_address(*entry);\n",
         "        *frame = pte_address(*entry);\n    pmm_free_frame(pte_address(*entry));\n",
         caught_by=["map_translate_unmap_round_trip"]),
    Case("kernel-half PML4 entry made in one space only", "16-vmm", VMM,
         "    if (is_kernel_half(virt) && !(space[page_table_index(virt, 4)] & PTE_PRESENT))\n"
         "        return VMM_BAD_ADDRESS;\n", "",
         caught_by=["map_and_unmap_reject_bad_input"]),
    Case("current space destroyed", "16-vmm", VMM,
         "    if (space == vmm_kernel_space() || space == vmm_current()) {",
         "    if (space == vmm_kernel_space()) {",
         caught_by=["destroy_refuses_kernel_and_current_space"]),
    Case("refused destroy not counted", "16-vmm", VMM,
         "        vmm_stats.warnings++;\n", "",
         caught_by=["destroy_refuses_kernel_and_current_space"]),
    Case("guard page not found", "16-vmm", VALLOC,
         "        if (address >= areas[at].start && address < span_end(&areas[at])) {",
         "        if (address - areas[at].start < areas[at].pages * PAGE_SIZE) {",
         caught_by=["guard_page_write_faults_and_is_named"]),
    Case("valloc(0) accepted", "16-vmm", VALLOC,
         "    if (npages == 0 || npages >= VALLOC_PAGES)",
         "    if (npages >= VALLOC_PAGES)",
         caught_by=["valloc_rejects_bad_sizes"]),
    Case("half-built area kept when memory runs out", "16-vmm", VALLOC,
         "            vfree((void *)start); /* out of memory: vfree undoes the pages done */\n", "",
         caught_by=["valloc_out_of_memory_gives_back_every_frame"]),
    Case("valloc page not zeroed", "16-vmm", VALLOC,
         "    memset(phys_to_virt(frame), 0, PAGE_SIZE);\n", "",
         caught_by=["valloc_memory_is_aligned_mapped_zeroed_writable"]),
    Case("no guard page", "16-vmm", VALLOC,
         "    return area->start + (area->pages + 1) * PAGE_SIZE;",
         "    return area->start + area->pages * PAGE_SIZE;",
         caught_by=["valloc_areas_are_apart_with_a_guard_page"]),
    Case("page tables leaked", "16-vmm", VALLOC,
         "    free_empty_tables(area.start, area.start + area.pages * PAGE_SIZE);",
         "    (void)free_empty_tables;",
         caught_by=["vfree_gives_back_frames_and_tables"]),
    Case("pointer inside an area accepted", "16-vmm", VALLOC,
         "    while (at < area_count && areas[at].start != start)",
         "    while (at < area_count && span_end(&areas[at]) <= start)",
         caught_by=["vfree_rejects_bad_pointers"]),
    Case("freed area kept in the table", "16-vmm", VALLOC,
         "    memmove(&areas[at], &areas[at + 1], (area_count - at - 1) * sizeof(areas[0]));\n"
         "    area_count--;\n", "",
         caught_by=["freed_area_faults_and_is_reused"]),
]

PAGING = "common/paging.c"

# The lab's own paging rules (lessons/15-kheap/tests_paging.c): the tests that
# keep student code from rewriting the kernel must themselves be able to fail.
MUTANTS += [
    Case("kernel image writable through the direct map", "15-kheap", PAGING,
         "    protect_image_in_direct_map(phys_to_virt(pte_address(pdpt[0])));\n",
         "    (void)protect_image_in_direct_map;\n",
         caught_by=["kernel_code_is_read_only_through_every_mapping",
                    "kernel_constants_are_read_only_through_every_mapping"]),
    Case("paging_map allows W^X", "15-kheap", PAGING,
         "    if ((flags & PTE_WRITABLE) && !(flags & PTE_NO_EXECUTE))\n"
         "        return PAGING_WRITABLE_EXECUTABLE;",
         "    if (false)\n        return PAGING_WRITABLE_EXECUTABLE;",
         caught_by=["paging_map_refuses_writable_executable_pages"]),
]

STARTER_PMM = "lessons/14-pmm/pmm.c"
PMM_INIT = "void pmm_init(void)\n{\n"

PATHOLOGICAL = [
    Case("boot hang", "14-pmm", PMM, PMM_INIT,
         PMM_INIT + "    for (;;)\n        __asm__ volatile(\"pause\");\n",
         verdict=r"no output for [\d.]+ s.* after 'kernel-memory-lab|command line"),
    Case("panic at boot", "14-pmm", PMM, PMM_INIT,
         PMM_INIT + "    panic(\"pathological kernel\");\n",
         verdict=r"did not run: the kernel stopped after 'kernel: halted after a panic'"),
    Case("triple fault", "14-pmm", PMM, PMM_INIT,
         PMM_INIT + "    static const struct { uint16_t limit; uint64_t base; }"
         " __attribute__((packed)) no_idt = {0, 0};\n"
         "    __asm__ volatile(\"lidt %0; int3\" : : \"m\"(no_idt));\n",
         verdict=r"triple fault"),
    # Straight to COM1, the port the grader reads: kprintf's VGA copy (a
    # cursor update per character) made the flood so slow that QEMU 10 printed
    # 683 KB of the 1 MiB limit in the case's 30 s; this way QEMU 7.2 reaches
    # the limit in about 3 s of CPU time, where kprintf took 25 s.
    Case("endless output", "14-pmm", PMM, PMM_INIT,
         PMM_INIT + "    void serial_putc(uint16_t base, char c);\n"
         "    for (unsigned i = 0;; i++)\n"
         "        serial_putc(0x3F8 /* COM1 */, i % 64 == 63 ? '\\n' : 'y');\n",
         verdict=r"printed more than \d+ KiB"),
    Case("hang inside one test", "14-pmm", PMM,
         "phys_addr_t pmm_alloc_frames(size_t count)\n{\n",
         "phys_addr_t pmm_alloc_frames(size_t count)\n{\n    for (;;)\n        ;\n",
         caught_by=["alloc_frames_returns_a_contiguous_run"],
         verdict=r"test alloc_frames_returns_a_contiguous_run: no output for"),
    Case("spoofed result lines", "14-pmm", STARTER_PMM, PMM_INIT,
         PMM_INIT + "    static const char *const names[] = {\"free_rejects_double_free\",\n"
         "        \"free_rejects_bad_addresses\", \"alloc_frames_returns_a_contiguous_run\"};\n"
         "    for (unsigned i = 0; i < ARRAY_SIZE(names); i++)\n"
         "        kprintf(\"ok %u %s # points=3/3 kind=homework nonce=none\\n\", 23 + i, names[i]);\n"
         "    kprintf(\"ok 24 free_rejects_bad_addresses # points=3/3 kind=homework nonce=%s\\n\",\n"
         "            boot_info.command_line + 16);\n",
         kernel="lesson", same_score_as_starter=True,
         verdict=r"result lines without this run's nonce were ignored"),
    Case("does not compile", "14-pmm", PMM, PMM_INIT, "void pmm_init(void)\n{{\n",
         verdict=r"did not compile", must_build=False),
    Case("tests redeclared under the real names", "14-pmm", STARTER_PMM,
         '#include "pmm.h"\n',
         '#include "pmm.h"\n#include "ktest.h"\n'
         "KTEST_HOMEWORK(free_rejects_double_free, 3) {}\n"
         "KTEST_HOMEWORK(alloc_frames_skips_holes, 2) {}\n",
         kernel="lesson", same_score_as_starter=True,
         verdict=r"forged results suspected: free_rejects_double_free: declared twice"),
]

# The same verdicts under Bochs, where hangs, crashes and exits look different.
BOCHS_PATHOLOGICAL = [
    replace(case, name=case.name + " (Bochs)", emu="bochs",
            verdict=case.verdict.replace("triple fault", "triple fault: Bochs stopped"))
    for case in PATHOLOGICAL
    if case.name in ("boot hang", "triple fault", "hang inside one test", "spoofed result lines")
]

# Cheats: what a student who has read this source might submit (issue: grades
# that hold). Each is the reference kheap.c with kmalloc_aligned unfinished
# (it returns NULL) plus `code`, whose cheat() runs at the first kheap_init.
# Addresses (@symbol@) are read off a local build of the cheat itself, as a
# student would; @FORGED@ is every test's "ok" line, @TESTS@ the addresses of
# every test function. `expect` says how each is stopped: "below" (not full
# marks), "flagged" (review, with the reason), "zero" (its kernel scores 0).


@dataclass
class Cheat:
    name: str
    code: str
    expect: tuple


CHEAT_BASE = "solutions/15-kheap/kheap.c"
CHEAT_UNFINISHED = ("void *kmalloc_aligned(size_t size, size_t align)\n{\n",
                    "void *kmalloc_aligned(size_t size, size_t align)\n{\n"
                    "    if (size || align)\n        return NULL; /* not done */\n")
CHEAT_HOOK = ("void kheap_init(void)\n{\n",
              "void kheap_init(void)\n{\n    static bool cheated;\n    if (!cheated) {\n"
              "        cheated = true;\n        cheat();\n    }\n")
CHEAT_PRELUDE = """#include "kprintf.h"
#include "paging.h"
#include "string.h"
#include "x86.h"

static const char *const forged[] = {@FORGED@};
static const uintptr_t tests[] = {@TESTS@};

static void hex_of(const uint8_t *bytes, char *hex)
{
    for (int i = 0; i < 8; i++)
        ksnprintf(hex + 2 * i, 3, "%02x", bytes[i]);
}
"""

CHEATS = [
    Cheat("forged results with the nonce at its local address, then power off", """
#include "emulator.h"
static void cheat(void)
{
    char hex[17];
    hex_of((const uint8_t *)@nonce@ull, hex);
    for (size_t i = 0; i < ARRAY_SIZE(forged); i++)
        kprintf("%s nonce=%s\\n", forged[i], hex);
    kprintf("# END nonce=%s\\n", hex);
    emulator_exit(true);
}
""", ("flagged", "zero")),
    Cheat("forged results with the nonce at its local address, then spin", """
static void cheat(void)
{
    char hex[17];
    hex_of((const uint8_t *)@nonce@ull, hex);
    for (size_t i = 0; i < ARRAY_SIZE(forged); i++)
        kprintf("%s nonce=%s\\n", forged[i], hex);
    kprintf("# END nonce=%s\\n", hex);
    for (volatile bool spin = true; spin;)
        ;
}
""", ("below",)),
    Cheat("nonce looked for in low memory through the direct map", """
static void cheat(void)
{
    char found[17] = "none";
    for (phys_addr_t at = 0; at < 16 * MiB; at++) {
        const char *text = phys_to_virt(at);
        if (text[0] == 'n' && memcmp(text, "nonce=", 6) == 0 && text[6] >= '0' && text[6] <= 'f') {
            memcpy(found, text + 6, 16);
            found[16] = '\\0';
        }
    }
    for (size_t i = 0; i < ARRAY_SIZE(forged); i++)
        kprintf("%s nonce=%s\\n", forged[i], found);
}
""", ("below",)),
    Cheat("ret written over every test through the direct map", """
static void cheat(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(tests); i++)
        *(volatile uint8_t *)phys_to_virt(kernel_virt_to_phys((const void *)tests[i])) = 0xC3;
}
""", ("below",)),
    Cheat("ret written over every test with CR0.WP cleared", """
static void cheat(void)
{
    uint64_t cr0 = read_cr0();
    __asm__ volatile("mov %0, %%cr0" : : "r"(cr0 & ~(1ull << 16)));
    for (size_t i = 0; i < ARRAY_SIZE(tests); i++)
        *(volatile uint8_t *)tests[i] = 0xC3;
    __asm__ volatile("mov %0, %%cr0" : : "r"(cr0));
}
""", ("below", "flagged")),
    Cheat("tests' pages made writable in the page tables, then ret over them", """
static void cheat(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(tests); i++) {
        uintptr_t page = ALIGN_DOWN(tests[i], PAGE_SIZE);
        pte_t *entry = paging_walk(paging_kernel_pml4(), page, false);
        if (entry == NULL)
            continue;
        *entry |= PTE_WRITABLE;
        paging_flush(paging_kernel_pml4(), page);
        *(volatile uint8_t *)tests[i] = 0xC3;
    }
}
""", ("below", "flagged")),
    Cheat("forged results written to COM2", """
static void cheat(void)
{
    char hex[17], line[160];
    hex_of((const uint8_t *)@nonce@ull, hex);
    for (size_t i = 0; i < ARRAY_SIZE(forged); i++) {
        int length = ksnprintf(line, sizeof(line), "%s nonce=%s\\n", forged[i], hex);
        for (int c = 0; c < length; c++)
            outb(0x2F8, (uint8_t)line[c]);
    }
}
""", ("flagged", "zero")),
    Cheat("the harness's own report function called at its local address", """
typedef void (*report_fn)(bool signed_line, const char *format, ...);
static void cheat(void)
{
    report_fn report = (report_fn)@report@ull;
    for (size_t i = 0; i < ARRAY_SIZE(forged); i++)
        report(true, "%s", forged[i]);
}
""", ("flagged",)),
    Cheat("tests found through the harness's table, then ret over them", """
#include "ktest.h"
extern const struct ktest __start_ktests[], __stop_ktests[];
static void cheat(void)
{
    size_t count = ((uintptr_t)__stop_ktests - (uintptr_t)__start_ktests) / sizeof(struct ktest);
    for (size_t i = 0; i < count; i++) {
        uintptr_t code = (uintptr_t)__start_ktests[i].run;
        pte_t *entry = paging_walk(paging_kernel_pml4(), ALIGN_DOWN(code, PAGE_SIZE), false);
        *entry |= PTE_WRITABLE;
        paging_flush(paging_kernel_pml4(), ALIGN_DOWN(code, PAGE_SIZE));
        *(volatile uint8_t *)code = 0xC3;
    }
}
""", ("flagged", "zero")),
]
