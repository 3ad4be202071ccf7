/*
 * golden.h: compare a test's text output with tests/unit/golden/NAME byte
 * for byte. Run with PTLAB_UPDATE_GOLDEN=1 to (re)write the files instead;
 * review the diff before committing. Tests run from the repository root.
 * Header-only; needs Criterion and arena.h's read_file.
 */
#ifndef TESTS_UNIT_GOLDEN_H
#define TESTS_UNIT_GOLDEN_H

#include <criterion/criterion.h>
#include "../arena.h"

static inline void golden_check(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "tests/unit/golden/%s", name);
    const char *update = getenv("PTLAB_UPDATE_GOLDEN");
    if (update && *update == '1') {
        FILE *f = fopen(path, "wb");
        cr_assert_not_null(f, "cannot write %s", path);
        fputs(text, f);
        fclose(f);
        return;
    }
    size_t len;
    char *want = read_file(path, &len);
    cr_assert_not_null(want, "missing golden file %s (run from the repository root)", path);
    if (len != strlen(text) || memcmp(want, text, len)) {
        /* Show the first differing line. */
        const char *a = want, *b = text;
        int line = 1;
        while (*a && *a == *b) {
            if (*a == '\n')
                line++;
            a++;
            b++;
        }
        const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
        cr_assert_fail("%s differs at line %d:\n want: %.*s\n  got: %.*s", path, line,
                       (int)(ea ? ea - a : (long)strlen(a)), a, (int)(eb ? eb - b : (long)strlen(b)), b);
    }
    free(want);
}

#endif /* TESTS_UNIT_GOLDEN_H */
