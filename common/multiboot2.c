/* multiboot2.c - walk the tags of the Multiboot2 boot information.
 *
 * The information starts with a u32 total size and a u32 reserved word; then
 * come the tags, each 8-byte aligned:
 * { u32 type; u32 size; payload }, ending with a tag of type 0. See the
 * Multiboot2 specification, section 3.6. */
#include "multiboot2.h"
#include "kprintf.h"
#include "panic.h"
#include "string.h"

enum {
    TAG_END = 0,
    TAG_COMMAND_LINE = 1,
    TAG_LOADER_NAME = 2,
    TAG_MODULE = 3,
    TAG_MEMORY_MAP = 6,
    TAG_ALIGNMENT = 8,
};

struct mb2_tag {
    uint32_t type;
    uint32_t size;
};

struct mb2_tag_string {
    struct mb2_tag tag;
    char string[];
};

struct mb2_tag_module {
    struct mb2_tag tag;
    uint32_t start, end;
    char name[];
};

struct mb2_tag_memory_map {
    struct mb2_tag tag;
    uint32_t entry_size;
    uint32_t entry_version;
    uint8_t entries[];
};

struct mb2_memory_entry {
    uint64_t base;
    uint64_t length;
    uint32_t type;
    uint32_t reserved;
};

struct boot_info boot_info;

static void copy_string(char *dest, size_t size, const char *src)
{
    size_t length = MIN(strlen(src), size - 1);
    memcpy(dest, src, length);
    dest[length] = '\0';
}

static void parse_memory_map(const struct mb2_tag_memory_map *tag)
{
    size_t entries = (tag->tag.size - sizeof(*tag)) / tag->entry_size;
    if (entries > BOOT_MAX_REGIONS) {
        kprintf("multiboot2: memory map has %zu entries, keeping the first %d\n", entries,
                BOOT_MAX_REGIONS);
        entries = BOOT_MAX_REGIONS;
    }
    for (size_t i = 0; i < entries; i++) {
        const struct mb2_memory_entry *entry = (const void *)(tag->entries + i * tag->entry_size);
        boot_info.memory_map[i] = (struct memory_region){
            .base = entry->base, .length = entry->length, .type = entry->type};
    }
    boot_info.memory_map_count = entries;
}

static void parse_module(const struct mb2_tag_module *tag)
{
    if (boot_info.module_count == BOOT_MAX_MODULES) {
        kprintf("multiboot2: more than %d modules, ignoring \"%s\"\n", BOOT_MAX_MODULES, tag->name);
        return;
    }
    boot_info.modules[boot_info.module_count++] =
        (struct boot_module){.start = tag->start, .end = tag->end, .name = tag->name};
}

void multiboot2_parse(uint32_t magic, phys_addr_t info)
{
    if (magic != MULTIBOOT2_BOOT_MAGIC)
        panic("not booted by a Multiboot2 loader (magic 0x%x)", magic);

    uint8_t *start = phys_to_virt(info);
    uint32_t total_size = *(const uint32_t *)start;
    boot_info.info_start = info;
    boot_info.info_end = info + total_size;

    uint8_t *at = start + TAG_ALIGNMENT; /* skip total_size and reserved */
    while (at < start + total_size) {
        struct mb2_tag *tag = (void *)at;
        if (tag->type == TAG_END)
            break;
        switch (tag->type) {
        case TAG_COMMAND_LINE:
            boot_info.loader_command_line = ((struct mb2_tag_string *)tag)->string;
            copy_string(boot_info.command_line, sizeof(boot_info.command_line),
                        boot_info.loader_command_line);
            break;
        case TAG_LOADER_NAME:
            copy_string(boot_info.loader_name, sizeof(boot_info.loader_name),
                        ((const struct mb2_tag_string *)tag)->string);
            break;
        case TAG_MODULE:
            parse_module((const struct mb2_tag_module *)tag);
            break;
        case TAG_MEMORY_MAP:
            parse_memory_map((const struct mb2_tag_memory_map *)tag);
            break;
        default:
            break; /* framebuffer, ACPI tables, ...: not needed here */
        }
        at += ALIGN_UP(tag->size, TAG_ALIGNMENT);
    }
}

const char *memory_type_name(uint32_t type)
{
    switch (type) {
    case MEMORY_USABLE:
        return "usable";
    case MEMORY_RESERVED:
        return "reserved";
    case MEMORY_ACPI_RECLAIMABLE:
        return "ACPI reclaimable";
    case MEMORY_ACPI_NVS:
        return "ACPI NVS";
    case MEMORY_BAD:
        return "bad memory";
    default:
        return "unknown (reserved)";
    }
}
