/* serial.c - a UART at 115200 baud, 8 data bits, no parity, 1 stop bit (8N1).
 * Everything kprintf prints goes to COM1; the test harness writes its results
 * to COM2. QEMU and Bochs write each port to a file or a terminal. */
#include "serial.h"
#include "x86.h"

enum {
    REG_DATA = 0,       /* DLAB=0: transmit/receive byte */
    REG_INTERRUPTS = 1, /* DLAB=0: interrupt enable; DLAB=1: divisor high */
    REG_FIFO = 2,
    REG_LINE_CONTROL = 3,
    REG_MODEM_CONTROL = 4,
    REG_LINE_STATUS = 5,
    LINE_8N1 = 0x03,
    LINE_DLAB = 0x80, /* next two registers are the baud divisor */
    FIFO_ENABLE_CLEAR = 0xC7,
    MODEM_DTR_RTS = 0x03,
    STATUS_TX_EMPTY = 0x20,
    BAUD_BASE = 115200,
    BAUD = 115200,
};

void serial_init(uint16_t base)
{
    outb(base + REG_INTERRUPTS, 0); /* we poll; no serial interrupts */
    outb(base + REG_LINE_CONTROL, LINE_DLAB);
    outb(base + REG_DATA, BAUD_BASE / BAUD);
    outb(base + REG_INTERRUPTS, 0);
    outb(base + REG_LINE_CONTROL, LINE_8N1);
    outb(base + REG_FIFO, FIFO_ENABLE_CLEAR);
    outb(base + REG_MODEM_CONTROL, MODEM_DTR_RTS);
}

void serial_putc(uint16_t base, char c)
{
    if (c == '\n')
        serial_putc(base, '\r');
    /* A port with no UART behind it reads 0xFF, "empty": no endless wait. */
    while ((inb(base + REG_LINE_STATUS) & STATUS_TX_EMPTY) == 0)
        ;
    outb(base + REG_DATA, (uint8_t)c);
}
