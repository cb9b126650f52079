/* fw_cfg.c - reading a file of QEMU's fw_cfg device (docs/specs/fw_cfg.rst
 * in QEMU's source). Port 0x510 selects an item, port 0x511 yields its bytes
 * one after another. Item 0x19 is the directory: a big-endian count, then one
 * 64-byte entry per file (size, item number, name). */
#include "fw_cfg.h"
#include "string.h"
#include "x86.h"

enum {
    PORT_SELECTOR = 0x510,
    PORT_DATA = 0x511,
    ITEM_SIGNATURE = 0x00,
    ITEM_DIRECTORY = 0x19,
    NAME_SIZE = 56,
};

static const char SIGNATURE[] = "QEMU";

struct directory_entry { /* as it arrives: big-endian */
    uint8_t size[4];
    uint8_t item[2];
    uint8_t reserved[2];
    char name[NAME_SIZE];
};

static void read_bytes(void *buffer, size_t size)
{
    uint8_t *bytes = buffer;
    for (size_t i = 0; i < size; i++)
        bytes[i] = inb(PORT_DATA);
}

static uint32_t big_endian(const uint8_t *bytes, size_t size)
{
    uint32_t value = 0;
    for (size_t i = 0; i < size; i++)
        value = value << 8 | bytes[i];
    return value;
}

size_t fw_cfg_read_file(const char *name, void *buffer, size_t size)
{
    char signature[sizeof(SIGNATURE) - 1];
    outw(PORT_SELECTOR, ITEM_SIGNATURE);
    read_bytes(signature, sizeof(signature));
    if (memcmp(signature, SIGNATURE, sizeof(signature)) != 0)
        return 0;

    uint8_t count[4];
    outw(PORT_SELECTOR, ITEM_DIRECTORY);
    read_bytes(count, sizeof(count));
    for (uint32_t i = big_endian(count, sizeof(count)); i > 0; i--) {
        struct directory_entry entry;
        read_bytes(&entry, sizeof(entry));
        entry.name[NAME_SIZE - 1] = '\0';
        if (strcmp(entry.name, name) != 0)
            continue;
        size_t file_size = big_endian(entry.size, sizeof(entry.size));
        outw(PORT_SELECTOR, (uint16_t)big_endian(entry.item, sizeof(entry.item)));
        read_bytes(buffer, MIN(size, file_size));
        return file_size;
    }
    return 0;
}
