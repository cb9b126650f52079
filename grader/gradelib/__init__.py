"""The lab's grader: build a lesson's kernels, boot their in-kernel tests
under QEMU or Bochs, read the test protocol from the serial port, score it.

It needs Python 3.10 or later, the oldest python3 of the systems the lab
supports (Ubuntu 22.04); standard library only. The check below is written
for any Python 3, so that an older one gets this answer rather than a
syntax error from a module further in."""

import sys

MIN_PYTHON = (3, 10)

if sys.version_info < MIN_PYTHON:
    raise SystemExit("the lab's grader needs Python %d.%d or later; this is %s (%s).\n"
                     "Install a newer python3 (Debian 12 and Ubuntu 22.04 or later ship one) "
                     "and put it first in PATH." % (MIN_PYTHON + (sys.version.split()[0],
                                                                  sys.executable)))
