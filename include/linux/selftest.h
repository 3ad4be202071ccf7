/*
 * selftest.h: in-kernel tests, selected by the command line (`test=all` or
 * `test=name1,name2`). Each prints `test NAME: OK` or `test NAME: FAILED`;
 * the run ends with `ALL TESTS PASSED` (exit status 33) or
 * `SOME TESTS FAILED` (35). Early tests run before init_mem_mapping.
 * A name that is no test refuses the boot (a panic listing the known names,
 * status 35), and a run in which no test ran has failed.
 */
#ifndef LINUX_SELFTEST_H
#define LINUX_SELFTEST_H

#include <stdbool.h>

/*
 * selftest_run - run the selected tests of one phase (the early one first:
 * test= is read then, and an unknown name panics).
 * returns: false if any failed, or, in the late phase, if none ran at all.
 */
bool selftest_run(bool early);
/* Whether any test was asked for on the command line. */
bool selftest_requested(void);

/* Failing checks inside a test: print where and make the test fail. */
#define KTEST_CHECK(cond)                                                                  \
	do {                                                                               \
		if (!(cond)) {                                                             \
			printk("  check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
			return false;                                                      \
		}                                                                          \
	} while (0)

#endif /* LINUX_SELFTEST_H */
