/* lesson.h - what every lesson's main.c provides to the common kernel. */
#ifndef LESSON_H
#define LESSON_H

/* Brings up this lesson's subsystems (and those of the lessons before it). */
void lesson_init(void);

/* The default boot: shows the lesson's work on the console. */
void lesson_demo(void);

#endif
