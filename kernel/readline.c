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

/* The line being edited. */
struct line {
	char *buf;
	size_t len, pos;
	bool overflow;           /* more was typed than fits: the line is refused at Enter */
	unsigned int browse;     /* 0 = the line being typed; k = the k-th most recent history line */
};

/* Up (older) or down (newer) in the history: the line becomes that entry. */
static void history_browse(struct line *l, bool older)
{
	unsigned int avail = history_count < HISTORY_SIZE ? history_count : HISTORY_SIZE;

	if (older && l->browse < avail)
		l->browse++;
	else if (!older && l->browse > 0)
		l->browse--;
	else
		return;
	if (l->browse == 0) {
		l->len = 0;
	} else {
		const char *h = history[(history_count - l->browse) % HISTORY_SIZE];
		l->len = strlen(h);
		memcpy(l->buf, h, l->len);
	}
	l->pos = l->len;
	l->overflow = false;
}

/* The final byte of a cursor-key sequence (ESC [ c or ESC O c; Home/End as H/F). */
static void cursor_key(struct line *l, char c)
{
	switch (c) {
	case 'C': if (l->pos < l->len) l->pos++; break;
	case 'D': if (l->pos > 0) l->pos--; break;
	case 'H': l->pos = 0; break;
	case 'F': l->pos = l->len; break;
	case 'A': history_browse(l, true); break;
	case 'B': history_browse(l, false); break;
	default: break;
	}
}

/* An editing control byte (Backspace, Ctrl-A/E/U). returns: false if it changed nothing. */
static bool control_key(struct line *l, char c)
{
	switch (c) {
	case 0x7f:
	case 0x08:
		if (l->pos == 0)
			return false;
		memmove(l->buf + l->pos - 1, l->buf + l->pos, l->len - l->pos);
		l->pos--;
		l->len--;
		return true;
	case 0x01: l->pos = 0; return true;                             /* Ctrl-A */
	case 0x05: l->pos = l->len; return true;                        /* Ctrl-E */
	case 0x15: l->len = l->pos = 0; l->overflow = false; return true; /* Ctrl-U */
	default: return false; /* other control and non-ASCII bytes: ignored */
	}
}

/* A printable byte at the cursor. returns: false if the line is full. */
static bool insert_char(struct line *l, char c)
{
	if (l->len >= READLINE_MAX - 1) {
		l->overflow = true; /* keep reading to the end of the line, drop the rest */
		return false;
	}
	memmove(l->buf + l->pos + 1, l->buf + l->pos, l->len - l->pos);
	l->buf[l->pos++] = c;
	l->len++;
	return true;
}

int readline(const char *prompt, char *buf)
{
	struct line l = { .buf = buf };
	size_t shown = 0;        /* where the terminal's cursor is */
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
			cursor_key(&l, c);
		} else if (c == '\n' && prev == '\r') {
			continue; /* CR LF is one Enter */
		} else if (c == '\n' || c == '\r') {
			puts_raw("\r\n");
			buf[l.len] = '\0';
			if (l.overflow)
				return -1;
			history_add(buf);
			return (int)l.len;
		} else if (c == 0x1b) {
			esc = 1;
			continue;
		} else if (c == 0x03) { /* Ctrl-C */
			puts_raw("^C\r\n");
			buf[0] = '\0';
			return -2;
		} else if ((unsigned char)c >= 0x20 && (unsigned char)c <= 0x7e) {
			if (!insert_char(&l, c))
				continue;
			if (l.pos == l.len && shown == l.pos - 1) { /* typing at the end: plain echo */
				serial_putc(c);
				shown = l.pos;
				continue;
			}
		} else if (!control_key(&l, c)) {
			continue;
		}
		redraw(shown, buf, l.len, l.pos);
		shown = l.pos;
	}
}
