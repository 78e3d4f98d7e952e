// SPDX-License-Identifier: GPL-2.0
/*
 * MSR access: allowed MSRs read what the CPU state says and keep what is
 * written; a bogus MSR, or a bad value for a real one, raises #GP(0).
 */
#include "runtime.h"

const char guest_name[] = "msr";

/* rdmsr under a fixup: returns the vector of the fault, or -1. */
static int try_rdmsr(uint32_t msr, uint64_t *v)
{
	uint32_t lo = 0, hi = 0;

	rt_trap_reset();
	asm volatile(RT_TRY "rdmsr" RT_CATCH
		     : "=a"(lo), "=d"(hi) : "c"(msr), "a"(0), "d"(0) : "r11", "memory");
	*v = ((uint64_t)hi << 32) | lo;
	return rt_last_trap.vector;
}

static int try_wrmsr(uint32_t msr, uint64_t v)
{
	rt_trap_reset();
	asm volatile(RT_TRY "wrmsr" RT_CATCH
		     : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
		     : "r11", "memory");
	return rt_last_trap.vector;
}

void guest_main(const struct hyvm_boot_info *bi)
{
	uint64_t v, old;
	int vec;

	vec = try_rdmsr(MSR_EFER, &v);
	CHECK(vec == -1, "rdmsr EFER does not fault");
	CHECK((v & (EFER_LME | EFER_LMA)) == (EFER_LME | EFER_LMA),
	      "EFER has LME and LMA (0x%lx)", v);
	CHECK(v & EFER_SCE, "EFER.SCE as the runtime set it");

	/* A syscall MSR is a plain register: it keeps what it is given. */
	old = rdmsr(MSR_KERNEL_GS_BASE);
	vec = try_wrmsr(MSR_KERNEL_GS_BASE, 0x1234567890abcdefULL & 0x00007fffffffffffULL);
	CHECK(vec == -1, "wrmsr KERNEL_GS_BASE does not fault");
	CHECK(rdmsr(MSR_KERNEL_GS_BASE) == (0x1234567890abcdefULL & 0x00007fffffffffffULL),
	      "KERNEL_GS_BASE reads back what was written");
	wrmsr(MSR_KERNEL_GS_BASE, old);

	vec = try_rdmsr(0x1ac0ffee, &v);
	CHECK(vec == 13 && rt_last_trap.error == 0,
	      "rdmsr of a bogus MSR raises #GP(0) (vector %d, error %lu)", vec,
	      (uint64_t)rt_last_trap.error);
	vec = try_wrmsr(0x1ac0ffee, 1);
	CHECK(vec == 13, "wrmsr of a bogus MSR raises #GP (vector %d)", vec);
	/*
	 * Not checked: a non-canonical LSTAR, which CPUs refuse with #GP but
	 * QEMU's software CPU (the sandbox host) accepts when KVM passes the
	 * MSR through, so the reference would be wrong.
	 */
	/* Reserved EFER bits are refused too. */
	vec = try_wrmsr(MSR_EFER, rdmsr(MSR_EFER) | (1ULL << 63));
	CHECK(vec == 13, "setting a reserved EFER bit raises #GP (vector %d)", vec);
}
