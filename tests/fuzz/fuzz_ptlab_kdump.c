/*
 * fuzz_ptlab_kdump.c: libFuzzer harness for the ptlab host tool's
 * kdump-compressed reader (tools/ptlab/kdump.c, both forms, every
 * compression) behind the memory-source layer; the tool's files are
 * included directly: scripts/fuzz-smoke builds harnesses against lib/ only.
 *
 * The input is a whole file; the properties checked besides the
 * sanitizers' are fuzz_source_file's (source_harness.h).
 * Seed corpus: tests/fuzz/corpus/ptlab_kdump/ (small cores of
 * scripts/ptlab-mkcore through scripts/ptlab-convert kdump, each method and form).
 */
#include "source_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_source_file(data, size, 0);
}
