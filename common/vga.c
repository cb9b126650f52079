/* vga.c - a scrolling 80x25 text console in the VGA buffer at physical
 * 0xB8000, reached through the direct map. */
#include "vga.h"
#include "string.h"

enum {
    VGA_COLUMNS = 80,
    VGA_ROWS = 25,
    VGA_TAB_WIDTH = 8,
    VGA_LIGHT_GREY_ON_BLACK = 0x07,
};
#define VGA_TEXT_PHYS 0xB8000

static uint16_t *vga_buffer;
static int cursor_row, cursor_column;

static uint16_t vga_cell(char c)
{
    return (uint16_t)((VGA_LIGHT_GREY_ON_BLACK << 8) | (uint8_t)c);
}

static void vga_scroll(void)
{
    memmove(vga_buffer, vga_buffer + VGA_COLUMNS,
            (VGA_ROWS - 1) * VGA_COLUMNS * sizeof(*vga_buffer));
    for (int column = 0; column < VGA_COLUMNS; column++)
        vga_buffer[(VGA_ROWS - 1) * VGA_COLUMNS + column] = vga_cell(' ');
    cursor_row = VGA_ROWS - 1;
}

void vga_init(void)
{
    vga_buffer = phys_to_virt(VGA_TEXT_PHYS);
    for (int i = 0; i < VGA_ROWS * VGA_COLUMNS; i++)
        vga_buffer[i] = vga_cell(' ');
    cursor_row = cursor_column = 0;
}

void vga_putc(char c)
{
    if (vga_buffer == NULL)
        return;
    if (c == '\n') {
        cursor_column = 0;
        cursor_row++;
    } else if (c == '\t') {
        cursor_column = ALIGN_UP(cursor_column + 1, VGA_TAB_WIDTH);
    } else {
        vga_buffer[cursor_row * VGA_COLUMNS + cursor_column] = vga_cell(c);
        cursor_column++;
    }
    if (cursor_column >= VGA_COLUMNS) {
        cursor_column = 0;
        cursor_row++;
    }
    if (cursor_row >= VGA_ROWS)
        vga_scroll();
}
