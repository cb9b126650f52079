# Lesson 15 builds a second kernel with the bonus free-list heap:
#   make lesson15 KHEAP=freelist   (kheap_freelist.c and tests_freelist.c)
FLAVOURS_15 := freelist
ifneq ($(KHEAP),)
FLAVOUR := $(KHEAP)
endif

# make gdb-lesson15 stops at the first kmalloc (a hardware breakpoint).
GDB_BREAK_15 := kmalloc
