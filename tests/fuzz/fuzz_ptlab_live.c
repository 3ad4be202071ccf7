/*
 * fuzz_ptlab_live.c: libFuzzer harness for what ptlab's live sources parse
 * from a peer: gdb packets (escapes, run-length encoding), the target
 * description's XML, QMP's JSON, and the monitor texts `info mtree -f` and
 * `info registers -a` (tools/ptlab/gdbrsp.c, qmp.c, sockio.c, included
 * directly). A stub or a QMP socket is input like any file: hostile bytes
 * must give an error, never a crash, a hang or a read out of bounds.
 *
 * Input: the first byte picks the parser (its value modulo 5), the rest is
 * what the peer sent.
 * Properties checked: decoded packets fit their buffer; register numbers
 * found are ones the text could give; counts stay within what was stored.
 * Seed corpus: tests/fuzz/corpus/ptlab_live/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../tools/ptlab/gdbrsp.c"
#include "../../tools/ptlab/qmp.c"
#include "../../tools/ptlab/sockio.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond)
        abort();
}

static int no_include(void *arg, const char *href)
{
    (void)arg;
    return href[0] == 'x' ? -1 : 0;     /* one include fails, the others succeed */
}

/* json - every way the QMP client reads a reply: members, strings, arrays. */
static void json(const char *s, size_t n)
{
    const char *v, *ve, *it, *e, *ee;
    static const char *const keys[] = { "return", "error", "event", "id", "desc", "running" };
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
        if (qmp_json_member(s, s + n, keys[k], &v, &ve)) {
            check(v >= s && ve <= s + n && v <= ve);
            free(qmp_json_string(v, ve, NULL));
            for (it = v; qmp_json_next(&it, ve, &e, &ee);)
                check(e >= v && ee <= ve);
        }
    size_t len;
    char *str = qmp_json_string(s, s + n, &len);
    if (str)
        check(len <= n && strlen(str) <= len);
    free(str);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t n = size - 1;
    char *s = malloc(n + 1);
    if (!s)
        return 0;
    memcpy(s, data + 1, n);
    s[n] = '\0';
    char out[512];
    struct gdb_reg regs[3] = { { "cr0", -1, 0 }, { "cr3", -1, 0 }, { "efer", -1, 0 } };
    struct qmp_ram ram[8];
    struct qmp_regs cpus[4];
    int next = 0, r;
    switch (data[0] % 5) {
    case 0:
        r = (int)gdb_rsp_decode(s, n, out, sizeof(out));
        check(r >= -1 && r <= (int)sizeof(out));
        break;
    case 1:
        r = gdb_rsp_parse_regs(s, n, regs, 3, &next, no_include, NULL);
        check(r == 0 || r == -1);
        break;
    case 2:
        json(s, n);
        break;
    case 3:
        r = qmp_parse_mtree(s, ram, 8);
        for (int i = 0; i < r && i < 8; i++)
            check(ram[i].name[sizeof(ram[i].name) - 1] == '\0' || strlen(ram[i].name) < 64);
        break;
    default:
        r = qmp_parse_registers(s, cpus, 4);
        check(r >= 0);
        break;
    }
    free(s);
    return 0;
}
