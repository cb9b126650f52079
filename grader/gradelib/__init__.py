"""The lab's grader: build a lesson's kernels, boot their in-kernel tests
under QEMU or Bochs, read the test protocol from the serial port, score it."""
