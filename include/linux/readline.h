/*
 * readline.h: the serial console's line editor: printable characters,
 * backspace, left/right (and Home/End, Ctrl-A/E), up/down history, Ctrl-U
 * (kill line), Ctrl-C (cancel). Any other byte is ignored, so no input, however
 * long or binary, can crash or hang the kernel.
 */
#ifndef LINUX_READLINE_H
#define LINUX_READLINE_H

#include <stdbool.h>
#include <stddef.h>

#define READLINE_MAX 256 /* bytes of a line, NUL included */

/*
 * Read one line into buf (size READLINE_MAX), echoing and editing.
 * returns: the line's length, or -1 when it was longer than READLINE_MAX - 1
 * (the excess was discarded; buf holds nothing usable), -2 on Ctrl-C.
 */
int readline(const char *prompt, char *buf);

#endif /* LINUX_READLINE_H */
