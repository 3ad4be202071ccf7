/*
 * fuzz_ptlab_lime.c: libFuzzer harness for the ptlab host tool's LiME
 * reader (the range headers, tools/ptlab/dump.c) behind the memory-source
 * layer; the tool's files are included directly: scripts/fuzz-smoke builds
 * harnesses against lib/ only.
 *
 * The input is a whole file; the properties checked besides the
 * sanitizers' are fuzz_source_file's (source_harness.h), the ranges
 * allowed to overlap as LiME's may.
 * Seed corpus: tests/fuzz/corpus/ptlab_lime/ (small cores of
 * scripts/ptlab-mkcore through scripts/ptlab-convert lime).
 */
#include "source_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_source_file(data, size, 1);
}
