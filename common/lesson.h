/* lesson.h - what every lesson's main.c provides to the common kernel. */
#ifndef LESSON_H
#define LESSON_H

/* What this lesson's own kernel adds once every lesson's subsystems are up
 * (INIT_NN in each lesson.mk): a fault handler, a banner. Optional: a weak
 * symbol, NULL where main.c has none. */
void lesson_init(void) __attribute__((weak));

/* The folder name of this kernel's lesson ("15-kheap"). */
extern const char lesson_name[];

/* The default boot: shows the lesson's work on the console. */
void lesson_demo(void);

#endif
