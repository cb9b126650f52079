/* gdt.h - segments for long mode: flat kernel code and data, and a TSS whose
 * only job is to give the double-fault handler a stack of its own. */
#ifndef GDT_H
#define GDT_H

#define GDT_KERNEL_CODE  0x08
#define GDT_KERNEL_DATA  0x10
#define GDT_TSS          0x18
#define IST_DOUBLE_FAULT 1 /* interrupt stack table slot used by #DF */

void gdt_init(void);

#endif
