# What lesson 15's kernels are made of (the Makefile's KERNEL_RULES read it).
# STUDENT: the files a student edits (solutions/15-kheap/ has their references);
# LIBRARY: code later lessons' kernels reuse; OWN: this lesson's kernels only;
# TESTS: their in-kernel tests (tests_paging.c: the lab's own paging rules,
# 0 points, run in the main kernel).
STUDENT_15 := kheap.c
LIBRARY_15 := kheap_dump.c
OWN_15     := main.c tests_support.c
TESTS_15   := tests.c tests_paging.c
# INIT: called at boot in this lesson's kernels and every later lesson's, after
# the earlier lessons' (common/main.c).
INIT_15    := kheap_init
# make trace-lesson15: what trace kernels wrap, and the wrappers (common/trace/ktrace.h).
TRACED_15  := kheap_init kmalloc kcalloc kmalloc_aligned kfree kheap_set_debug
TRACE_15   := trace.c

# A second kernel with the bonus free-list heap:
#   make lesson15 KHEAP=freelist   (kheap_freelist.c and tests_freelist.c
#   instead of kheap.c and tests.c)
FLAVOURS_15         := freelist
STUDENT_15_freelist := kheap_freelist.c
TESTS_15_freelist   := tests_freelist.c
ifneq ($(KHEAP),)
FLAVOUR := $(KHEAP)
endif

# make gdb-lesson15 stops at the first kmalloc (a hardware breakpoint).
GDB_BREAK_15 := kmalloc
