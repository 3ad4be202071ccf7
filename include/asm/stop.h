/*
 * stop.h: the command-line word `stop_at=STAGE[,STAGE...]`: pause right
 * after a boot stage has built its page tables, with them live, so that
 * QEMU's monitor can stop the guest and dump them (make boot-story,
 * docs/boot.md "The boot, in pictures").
 */
#ifndef ASM_STOP_H
#define ASM_STOP_H

/*
 * The stages that can be named, in boot order: decompressor (its 4 GiB
 * identity map, before the jump to the kernel), head_64 (early_top_pgt and
 * the high mapping, in x86_64_start_kernel), init_mem_mapping (the direct
 * map, CR3 = swapper_pg_dir), exec (a process's tables after pgd_alloc and
 * execve, CR3 = its PGD).
 */
#define STOP_AT_STAGES "decompressor,head_64,init_mem_mapping,exec"

/*
 * stop_at - if cmdline's stop_at= names `stage`, print the marker line
 * "ptlab: stop_at STAGE: tables live, CR3 ...; a key goes on" and wait,
 * interrupts off, until a byte arrives on the serial port; then go on.
 * A name that is not a stage is refused with a panic (every call checks).
 */
void stop_at(const char *cmdline, const char *stage);

#endif /* ASM_STOP_H */
