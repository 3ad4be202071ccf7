/*
 * readline.c: the line editor of the serial console (see linux/readline.h).
 * Understands VT100/xterm cursor keys (ESC [ A/B/C/D/H/F, ESC O H/F, ESC [ 1~
 * and 4~) and keeps the last HISTORY_SIZE lines.
 */
#include <asm/console.h>
#include <linux/readline.h>
#include <paging/pg_env.h>

#define HISTORY_SIZE 16

static char history[HISTORY_SIZE][READLINE_MAX];
static unsigned int history_count; /* lines ever added */

static void puts_raw(const char *s)
{
	while (*s)
		serial_putc(*s++);
}

/*
 * Redraw the line in place: the cursor is at old_pos; afterwards at pos. Moves
 * are relative, so the prompt is never printed again (a script waiting for the
 * prompt must not see a false one in the middle of an edit).
 */
static void redraw(size_t old_pos, const char *buf, size_t len, size_t pos)
{
	if (old_pos)
		printk("\x1b[%uD", (unsigned int)old_pos);
	for (size_t i = 0; i < len; i++)
		serial_putc(buf[i]);
	puts_raw("\x1b[K");
	if (len > pos)
		printk("\x1b[%uD", (unsigned int)(len - pos));
}

static void history_add(const char *line)
{
	if (!*line)
		return;
	if (history_count && strlen(history[(history_count - 1) % HISTORY_SIZE]) == strlen(line) &&
	    memcmp(history[(history_count - 1) % HISTORY_SIZE], line, strlen(line)) == 0)
		return; /* no duplicate of the last line */
	memcpy(history[history_count % HISTORY_SIZE], line, strlen(line) + 1);
	history_count++;
}

int readline(const char *prompt, char *buf)
{
	size_t len = 0, pos = 0, shown = 0; /* shown: where the terminal's cursor is */
	bool overflow = false;
	unsigned int browse = 0; /* 0 = the line being typed; k = k-th most recent */
	int esc = 0;             /* escape-sequence state: 1 after ESC, 2 after ESC [ or ESC O */
	char esc_arg = 0;
	static char last;

	buf[0] = '\0';
	puts_raw(prompt);
	for (;;) {
		char c = serial_getc();
		char prev = last;
		last = c;

		if (esc == 1) {
			esc = (c == '[' || c == 'O') ? 2 : 0;
			esc_arg = 0;
			continue;
		}
		if (esc == 2) {
			if (c >= '0' && c <= '9') {
				esc_arg = c;
				continue;
			}
			esc = 0;
			if (c == '~')
				c = esc_arg == '1' ? 'H' : esc_arg == '4' ? 'F' : 0;
			switch (c) {
			case 'C': if (pos < len) pos++; break;
			case 'D': if (pos > 0) pos--; break;
			case 'H': pos = 0; break;
			case 'F': pos = len; break;
			case 'A':
			case 'B': {
				unsigned int avail = history_count < HISTORY_SIZE ? history_count : HISTORY_SIZE;
				if (c == 'A' && browse < avail)
					browse++;
				else if (c == 'B' && browse > 0)
					browse--;
				else
					break;
				if (browse == 0)
					len = 0;
				else {
					const char *h = history[(history_count - browse) % HISTORY_SIZE];
					len = strlen(h);
					memcpy(buf, h, len);
				}
				pos = len;
				overflow = false;
				break;
			}
			default: break;
			}
			redraw(shown, buf, len, pos);
			shown = pos;
			continue;
		}

		switch (c) {
		case '\n':
			if (prev == '\r')
				continue; /* CR LF is one Enter */
			/* fall through */
		case '\r':
			puts_raw("\r\n");
			buf[len] = '\0';
			if (overflow)
				return -1;
			history_add(buf);
			return (int)len;
		case 0x1b:
			esc = 1;
			continue;
		case 0x7f:
		case 0x08:
			if (pos == 0)
				continue;
			memmove(buf + pos - 1, buf + pos, len - pos);
			pos--;
			len--;
			break;
		case 0x01: pos = 0; break;        /* Ctrl-A */
		case 0x05: pos = len; break;      /* Ctrl-E */
		case 0x15: len = pos = 0; overflow = false; break; /* Ctrl-U */
		case 0x03:                        /* Ctrl-C */
			puts_raw("^C\r\n");
			buf[0] = '\0';
			return -2;
		default:
			if ((unsigned char)c < 0x20 || (unsigned char)c > 0x7e)
				continue; /* other control and non-ASCII bytes: ignored */
			if (len >= READLINE_MAX - 1) {
				overflow = true; /* keep reading to the end of the line, drop the rest */
				continue;
			}
			memmove(buf + pos + 1, buf + pos, len - pos);
			buf[pos++] = c;
			len++;
			if (pos == len && shown == pos - 1) { /* typing at the end: plain echo */
				serial_putc(c);
				shown = pos;
				continue;
			}
			break;
		}
		redraw(shown, buf, len, pos);
		shown = pos;
	}
}
