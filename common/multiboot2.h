/* multiboot2.h - what GRUB tells the kernel: the memory map, the command
 * line, the boot loader's name and any modules, copied out of the Multiboot2
 * information into one plain struct. */
#ifndef MULTIBOOT2_H
#define MULTIBOOT2_H

#include "kernel.h"

#define MULTIBOOT2_BOOT_MAGIC 0x36D76289

/* Memory map entry types, as the Multiboot2 specification numbers them. */
enum memory_type {
    MEMORY_USABLE = 1,
    MEMORY_RESERVED = 2,
    MEMORY_ACPI_RECLAIMABLE = 3,
    MEMORY_ACPI_NVS = 4,
    MEMORY_BAD = 5,
};

struct memory_region {
    uint64_t base;
    uint64_t length;
    uint32_t type; /* enum memory_type; anything else counts as reserved */
};

struct boot_module {
    phys_addr_t start, end; /* [start, end) */
    const char *name;
};

enum {
    BOOT_MAX_REGIONS = 64,
    BOOT_MAX_MODULES = 8,
    BOOT_MAX_COMMAND_LINE = 256,
    BOOT_MAX_LOADER_NAME = 64,
};

struct boot_info {
    char command_line[BOOT_MAX_COMMAND_LINE];
    char *loader_command_line; /* the original, inside the Multiboot2 information */
    char loader_name[BOOT_MAX_LOADER_NAME];
    struct memory_region memory_map[BOOT_MAX_REGIONS];
    size_t memory_map_count;
    struct boot_module modules[BOOT_MAX_MODULES];
    size_t module_count;
    phys_addr_t info_start, info_end; /* the Multiboot2 information itself */
};

extern struct boot_info boot_info;

/* Fills boot_info from the information GRUB left at physical `info`;
 * panics if `magic` says we were not booted through Multiboot2. */
void multiboot2_parse(uint32_t magic, phys_addr_t info);

const char *memory_type_name(uint32_t type);

#endif
