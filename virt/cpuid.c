// SPDX-License-Identifier: GPL-2.0
/*
 * The CPUID a hardware-engine guest sees: the host's answers, filtered down
 * to what the VMM really gives the guest.
 *
 * Features are passed through from an allow-list, never from a deny-list,
 * so that a feature added by a future CPU stays hidden until someone
 * decides the guest may use it.  Hidden on purpose: VMX/SVM (no nesting),
 * XSAVE and everything built on it (the VMM does not switch XCR0, and
 * XSETBV is intercepted), the local APIC and x2APIC (not emulated yet),
 * MTRR and machine check (their MSRs #GP), performance counters, and every
 * speculation-control interface (the guest cannot write those MSRs).
 */
#include <linux/kernel.h>
#include <asm/processor.h>
#include "exit.h"

/* CPUID.1:ECX */
#define C1_ECX_ALLOW	(BIT(0) | BIT(1) | BIT(9) | BIT(13) | BIT(19) | \
			 BIT(20) | BIT(22) | BIT(23) | BIT(25) | BIT(30))
#define C1_ECX_HYPERVISOR	BIT(31)
/* CPUID.1:EDX: FPU VME DE PSE TSC MSR PAE CX8 SEP PGE CMOV PAT PSE36
 * CLFSH MMX FXSR SSE SSE2 */
#define C1_EDX_ALLOW	(GENMASK(6, 0) | BIT(8) | BIT(11) | BIT(13) | \
			 BIT(15) | BIT(16) | BIT(17) | BIT(19) | BIT(23) | \
			 BIT(24) | BIT(25) | BIT(26))
/* CPUID.7.0:EBX: FSGSBASE BMI1 SMEP BMI2 ERMS RDSEED ADX SMAP CLFLUSHOPT SHA */
#define C7_EBX_ALLOW	(BIT(0) | BIT(3) | BIT(7) | BIT(8) | BIT(9) | \
			 BIT(18) | BIT(19) | BIT(20) | BIT(23) | BIT(29))
/* CPUID.7.0:ECX: UMIP */
#define C7_ECX_ALLOW	BIT(2)
/* CPUID.0x80000001:ECX: LAHF ABM SSE4A MISALIGNSSE PREFETCHW */
#define E1_ECX_ALLOW	(BIT(0) | BIT(5) | BIT(6) | BIT(7) | BIT(8))
/* CPUID.0x80000001:EDX: SYSCALL NX MMXEXT FFXSR PDPE1GB RDTSCP LM 3DNOW */
#define E1_EDX_ALLOW	(BIT(11) | BIT(20) | BIT(22) | BIT(25) | BIT(26) | \
			 BIT(27) | BIT(29) | BIT(30) | BIT(31))

#define HYVM_CPUID_BASE_MAX	0x7
#define HYVM_CPUID_EXT_MAX	0x80000008
#define HYVM_CPUID_HV_LEAF	0x40000000

/**
 * hyvm_cpuid - the guest's answer to CPUID
 * @vcpu: the vCPU executing CPUID (its id is the APIC id)
 * @leaf: EAX on input
 * @subleaf: ECX on input
 * @out: EAX, EBX, ECX, EDX on output
 *
 * Leaves beyond the maximum the guest is told about answer zeros.
 */
void hyvm_cpuid(struct hyvm_vcpu *vcpu, u32 leaf, u32 subleaf, u32 out[4])
{
	u32 a = 0, b = 0, c = 0, d = 0;

	out[0] = out[1] = out[2] = out[3] = 0;
	switch (leaf) {
	case 0:
		cpuid(0, &a, &b, &c, &d);
		out[0] = min_t(u32, a, HYVM_CPUID_BASE_MAX);
		out[1] = b;
		out[2] = c;
		out[3] = d;
		return;
	case 1:
		cpuid(1, &a, &b, &c, &d);
		out[0] = a;
		/* Brand index and CLFLUSH size; one logical CPU; APIC id. */
		out[1] = (b & 0xffff) | (1 << 16) | (vcpu->id << 24);
		out[2] = (c & C1_ECX_ALLOW) | C1_ECX_HYPERVISOR;
		out[3] = d & C1_EDX_ALLOW;
		return;
	case 7:
		if (subleaf || cpuid_eax(0) < 7)
			return;
		cpuid_count(7, 0, &a, &b, &c, &d);
		out[1] = b & C7_EBX_ALLOW;
		out[2] = c & C7_ECX_ALLOW;
		return;
	case HYVM_CPUID_HV_LEAF:
		/* "hyvmhyvmhyvm": tells a guest which VMM it runs under. */
		out[0] = HYVM_CPUID_HV_LEAF;
		out[1] = out[2] = out[3] = 0x6d767968;
		return;
	case 0x80000000:
		out[0] = min_t(u32, cpuid_eax(0x80000000), HYVM_CPUID_EXT_MAX);
		cpuid(0x80000000, &a, &out[1], &out[2], &out[3]);
		return;
	}
	if (leaf < 0x80000001 || leaf > min_t(u32, cpuid_eax(0x80000000),
					       HYVM_CPUID_EXT_MAX))
		return;
	cpuid(leaf, &a, &b, &c, &d);
	switch (leaf) {
	case 0x80000001:
		out[0] = a;
		out[2] = c & E1_ECX_ALLOW;
		/* AMD repeats some leaf-1 bits here: filter them the same. */
		out[3] = d & (E1_EDX_ALLOW | (C1_EDX_ALLOW & 0x0183f3ff));
		return;
	case 0x80000002 ... 0x80000006:
		/* Brand string and cache geometry. */
		out[0] = a;
		out[1] = b;
		out[2] = c;
		out[3] = d;
		return;
	case 0x80000008:
		/* Address sizes only: no core topology, no security bits. */
		out[0] = a & 0xffff;
		return;
	}
}
