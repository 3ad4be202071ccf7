/*
 * ptlab_sources.h: the ptlab host tool's memory-source layer and readers,
 * included as source files into a unit test (the generic unit-test rule
 * links only the libraries, not the tool).
 */
#ifndef TESTS_PTLAB_SOURCES_H
#define TESTS_PTLAB_SOURCES_H

#include "../../tools/ptlab/notes.c"
#include "../../tools/ptlab/source.c"
#include "../../tools/ptlab/dump.c"
#include "../../tools/ptlab/kdump.c"
#include "../../tools/ptlab/kdump_index.c"

#endif /* TESTS_PTLAB_SOURCES_H */
