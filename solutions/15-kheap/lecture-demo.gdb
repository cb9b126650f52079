# lecture-demo.gdb - the 10-minute lecture demo of LECTURE.md beside it
# (the instructor's page), command for command, on the reference built for
# stepping. Rehearse it in two terminals:
#   make debug-lesson15 LECTURE=1 REFERENCE=1
#   make gdb-lesson15 LECTURE=1 REFERENCE=1 GDB_SCRIPT=solutions/15-kheap/lecture-demo.gdb
# `make test` runs it and checks each screen (tests/selftest, check "gdb").

# The heap picture in a browser beside GDB, redrawn at every stop.
kheap live
# The demo's first allocation: kmalloc(20).
continue
# Into the allocation, a line at a time: kmalloc, allocate, bump.
step
step
step
step
step
# bump's arithmetic, line by line: room, padding, block, start.
next
next
next
next
next
next
next
next
next
info locals
# Where the bump pointer moves, and from what to what.
watch heap_curr
continue
# Back in the caller with the block kmalloc returns.
frame function kmalloc
finish
kheap
kheap owner $rax
