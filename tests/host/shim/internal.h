/* internal.h - what the shim's own files share. */
#ifndef HOST_INTERNAL_H
#define HOST_INTERNAL_H

#include "host.h"

/* Inside host_try: leaves the call with `outcome` (does not return).
 * Outside: returns, and the caller reports the fault or panic itself. */
void host_escape(enum host_outcome outcome);

/* memory.c: the page-fault handler the kernel installed, if any
 * (exception_set_handler), for the report of an unexpected fault. */
void host_report_fault(uintptr_t address, uint64_t error_code);

#endif
