/* fw_cfg.h - QEMU's firmware configuration device: named files the host
 * hands the guest (`qemu -fw_cfg name=opt/NAME,string=TEXT`), read through
 * I/O ports rather than memory, so nothing of them is in RAM until read. */
#ifndef FW_CFG_H
#define FW_CFG_H

#include "kernel.h"

/* Copies up to `size` bytes of the fw_cfg file `name` into `buffer`; returns
 * the file's size, or 0 if there is no such file or no fw_cfg device (Bochs,
 * real hardware). */
size_t fw_cfg_read_file(const char *name, void *buffer, size_t size);

#endif
