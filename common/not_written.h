/* not_written.h - how a stub in a student's file says that it is not written
 * yet. Every stub of every lesson does it the same way: NOT_WRITTEN("practice
 * 2") prints one line on the console the first time the stub runs, e.g.
 *   pmm_free_frame: not written yet: TODO(practice 2) in pmm.c
 * and the stub then returns its failure value (a "not written" status, NULL,
 * PMM_NO_FRAME, false), never one that claims success. Delete the line when
 * you write the function. */
#ifndef NOT_WRITTEN_H
#define NOT_WRITTEN_H

#include "kprintf.h"

#define NOT_WRITTEN(todo)                                                                          \
    do {                                                                                           \
        static bool said_so;                                                                       \
        if (!said_so) {                                                                            \
            said_so = true;                                                                        \
            kprintf("%s: not written yet: TODO(%s) in %s\n", __func__, todo, __FILE_NAME__);       \
        }                                                                                          \
    } while (0)

#endif
