/* serial.h - the COM1 serial port: where tests report and graders listen. */
#ifndef SERIAL_H
#define SERIAL_H

void serial_init(void);
void serial_putc(char c);

#endif
