# make gdb-lesson16 stops at the first valloc (a hardware breakpoint).
GDB_BREAK_16 := valloc
