"""steps.py - what `step` passes over in lesson 15 (tools/gdb sources it):
the heap's interrupt guard, which is not what a kmalloc demo is about."""

import gdb

gdb.execute("skip -rfunction ^heap_(un)?lock$", to_string=True)
