/*
 * apic.h: the local APIC (arch/x86/kernel/apic.c; Linux:
 * arch/x86/include/asm/apic.h, apicdef.h): its registers, IPIs through the
 * interrupt command register, and each CPU's timer. xAPIC mode: the
 * registers are memory-mapped at FIX_APIC_BASE (the fixmap), each CPU seeing
 * its own APIC at the same address.
 */
#ifndef ASM_APIC_H
#define ASM_APIC_H

#include <stdbool.h>
#include <stdint.h>

#define APIC_ID             0x20
#define APIC_LVR            0x30
#define APIC_TASKPRI        0x80
#define APIC_EOI            0xb0
#define APIC_SPIV           0xf0
#define APIC_ESR            0x280
#define APIC_ICR            0x300
#define APIC_ICR2           0x310
#define APIC_LVTT           0x320
#define APIC_TMICT          0x380
#define APIC_TMCCT          0x390
#define APIC_TDCR           0x3e0
#define APIC_ICR_BUSY       0x1000
#define APIC_DM_FIXED       0x000
#define APIC_DM_INIT        0x500
#define APIC_DM_STARTUP     0x600
#define APIC_INT_ASSERT     0x4000
#define APIC_INT_LEVELTRIG  0x8000
#define LOCAL_TIMER_VECTOR  0xec
#define SPURIOUS_APIC_VECTOR 0xff

/* Whether the CPU has a local APIC that may be used (CPUID.1:EDX[9], no `noapic`). */
bool cpu_has_apic(void);
/* Map this machine's local APIC page at FIX_APIC_BASE and enable it (once). returns: 0 or -1. */
int init_apic_mappings(void);
uint32_t apic_read(uint32_t reg);
void apic_write(uint32_t reg, uint32_t v);
/* This CPU's APIC ID (APIC_ID[31:24]). */
uint32_t read_apic_id(void);
/* Software-enable this CPU's APIC: TPR 0, spurious vector, timer masked. */
void apic_setup_local(void);
/* This CPU's periodic timer at HZ with the BSP's calibrated count (apic_timer_count). */
void setup_APIC_timer(void);
/* Write the ICR: destination apicid, then the command (starts the IPI). */
void apic_icr_write(uint32_t low, uint32_t apicid);
/* Wait until the ICR is idle again. returns: 0, or nonzero if it stayed busy. */
uint32_t safe_apic_wait_icr_idle(void);
/* A fixed IPI with vector to the CPU with APIC ID apicid. */
void apic_send_IPI(uint32_t apicid, unsigned int vector);
extern uint32_t apic_timer_count;
/* TSC ticks and APIC timer ticks in 10 ms of PIT channel 2; false if the PIT did not answer. */
bool pit_calibrate_10ms(uint64_t *tsc_ticks, uint32_t *apic_ticks);

#endif /* ASM_APIC_H */
