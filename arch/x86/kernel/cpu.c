/*
 * cpu.c: CPUID feature detection (boot_cpu_data) and the early EFER setup.
 */
#include <asm/console.h>
#include <asm/cpufeature.h>
#include <asm/processor.h>

struct cpuinfo_x86 boot_cpu_data;

void early_cpu_init(void)
{
	struct cpuinfo_x86 *c = &boot_cpu_data;
	uint32_t a, b, cx, d;

	cpuid(0, 0, &a, &b, &cx, &d);
	c->max_leaf = a;
	for (int i = 0; i < 4; i++) {
		c->vendor[i] = (char)(b >> (8 * i));
		c->vendor[4 + i] = (char)(d >> (8 * i));
		c->vendor[8 + i] = (char)(cx >> (8 * i));
	}
	cpuid(1, 0, &a, &b, &cx, &d);
	c->pse = d & (1u << 3);
	c->pae = d & (1u << 6);
	c->pge = d & (1u << 13);
	c->pat = d & (1u << 16);
	c->pse36 = d & (1u << 17);
	c->pcid = cx & (1u << 17);
	if (c->max_leaf >= 7) {
		cpuid(7, 0, &a, &b, &cx, &d);
		c->smep = b & (1u << 7);
		c->invpcid = b & (1u << 10);
		c->smap = b & (1u << 20);
		c->pku = cx & (1u << 3);
		c->la57 = cx & (1u << 16);
	}
	cpuid(0x80000000u, 0, &a, &b, &cx, &d);
	c->max_ext_leaf = a;
	if (a >= 0x80000001u) {
		cpuid(0x80000001u, 0, &a, &b, &cx, &d);
		c->nx = d & X86_EXT_NX;
		c->gbpages = d & X86_EXT_GBPAGES;
		c->lm = d & X86_EXT_LM;
	}
	c->phys_bits = 36;
	c->virt_bits = 48;
	if (c->max_ext_leaf >= 0x80000008u) {
		cpuid(0x80000008u, 0, &a, &b, &cx, &d);
		c->phys_bits = a & 0xff;
		c->virt_bits = (a >> 8) & 0xff;
	}

	uint64_t efer = rdmsr(MSR_EFER) | EFER_SCE;
	if (c->nx)
		efer |= EFER_NXE;
	wrmsr(MSR_EFER, efer);
}
