# steps.gdb - what `step` passes over in lesson 15 (tools/gdb sources it):
# the heap's interrupt guard, which is not the subject of a kmalloc demo.
skip -rfunction ^heap_(un)?lock$
