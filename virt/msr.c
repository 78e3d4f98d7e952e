// SPDX-License-Identifier: GPL-2.0
/*
 * RDMSR and WRMSR from a hardware-engine guest: an allow-list; every other
 * MSR raises #GP in the guest, as on a CPU that does not have it.
 *
 * MSRs whose value the hardware switches itself (the syscall MSRs, FS/GS
 * base, EFER) are handled by the engine before it gets here.
 */
#include <linux/kernel.h>
#include <asm/msr.h>
#include <asm/msr-index.h>
#include "exit.h"

#define HYVM_PAT_DEFAULT	0x0007040600070406ULL
#define HYVM_APIC_BASE_VALID	(MSR_IA32_APICBASE_BSP | \
				 MSR_IA32_APICBASE_ENABLE | 0xffffff000ULL)

void hyvm_msr_reset(struct hyvm_msr_state *s)
{
	s->pat = HYVM_PAT_DEFAULT;
	s->tsc_aux = 0;
}

/* Each PAT byte must be a memory type: UC, WC, WT, WP, WB or UC-. */
static bool hyvm_pat_valid(u64 pat)
{
	unsigned int i;

	for (i = 0; i < 8; i++) {
		u8 t = pat >> (i * 8);

		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

/**
 * hyvm_msr_get - RDMSR
 * @vcpu: the vCPU
 * @s: its MSR state
 * @msr: ECX
 * @val: the value read
 *
 * Return: 0, or -EPERM when the guest must get #GP.
 */
int hyvm_msr_get(struct hyvm_vcpu *vcpu, struct hyvm_msr_state *s, u32 msr,
		 u64 *val)
{
	switch (msr) {
	case MSR_IA32_TSC:
		*val = rdtsc();	/* the guest runs with TSC offset 0 */
		return 0;
	case MSR_IA32_APICBASE:
		*val = vcpu->sregs.apic_base;
		return 0;
	case MSR_IA32_CR_PAT:
		*val = s->pat;
		return 0;
	case MSR_TSC_AUX:
		*val = s->tsc_aux;
		return 0;
	case MSR_IA32_UCODE_REV:
	case MSR_IA32_MCG_CAP:
	case MSR_IA32_MCG_STATUS:
		*val = 0;
		return 0;
	}
	return -EPERM;
}

/**
 * hyvm_msr_set - WRMSR
 * @vcpu: the vCPU
 * @s: its MSR state
 * @msr: ECX
 * @val: EDX:EAX
 *
 * Return: 0, or -EPERM when the guest must get #GP.
 */
int hyvm_msr_set(struct hyvm_vcpu *vcpu, struct hyvm_msr_state *s, u32 msr,
		 u64 val)
{
	switch (msr) {
	case MSR_IA32_TSC:
		/* TSC offsetting is not implemented: the write is dropped. */
		return 0;
	case MSR_IA32_APICBASE:
		if (val & ~HYVM_APIC_BASE_VALID)
			return -EPERM;
		vcpu->sregs.apic_base = val;
		return 0;
	case MSR_IA32_CR_PAT:
		if (!hyvm_pat_valid(val))
			return -EPERM;
		s->pat = val;
		return 0;
	case MSR_TSC_AUX:
		if (val >> 32)
			return -EPERM;
		s->tsc_aux = val;
		return 0;
	case MSR_IA32_UCODE_REV:
		return 0;	/* written before CPUID to read the revision */
	case MSR_IA32_MCG_STATUS:
		return val ? -EPERM : 0;
	}
	return -EPERM;
}
