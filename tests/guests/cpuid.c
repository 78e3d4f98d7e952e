// SPDX-License-Identifier: GPL-2.0
/*
 * CPUID: the leaves a 64-bit kernel relies on are there and sane, and the
 * answers are stable (a VMM that computes them must compute the same).
 */
#include "runtime.h"

const char guest_name[] = "cpuid";

static bool printable(const char *s, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

void guest_main(const struct hyvm_boot_info *bi)
{
	uint32_t r[4], again[4], ext[4];
	char vendor[13];

	cpuid(0, 0, r);
	memcpy(vendor, &r[1], 4);
	memcpy(vendor + 4, &r[3], 4);
	memcpy(vendor + 8, &r[2], 4);
	vendor[12] = 0;
	rt_printf("cpuid: vendor '%s', max leaf 0x%x\n", vendor, r[0]);
	CHECK(r[0] >= 1, "leaf 0 reports basic leaves (max 0x%x)", r[0]);
	CHECK(printable(vendor, 12), "vendor string is printable");

	cpuid(1, 0, r);
	rt_printf("cpuid: leaf 1 eax %08x ebx %08x ecx %08x edx %08x\n",
		  r[0], r[1], r[2], r[3]);
	CHECK(r[0] != 0, "leaf 1 has a family/model/stepping");
	CHECK(r[3] & (1U << 5), "leaf 1 edx.MSR (rdmsr/wrmsr exist)");
	CHECK(r[3] & (1U << 6), "leaf 1 edx.PAE (we run with PAE paging)");
	CHECK(r[3] & (1U << 0), "leaf 1 edx.FPU");
	cpuid(1, 0, again);
	CHECK(!memcmp(r, again, sizeof(r)), "leaf 1 is stable across calls");

	cpuid(0x80000000, 0, ext);
	CHECK(ext[0] >= 0x80000001, "extended leaves up to 0x%x", ext[0]);
	if (ext[0] >= 0x80000001) {
		cpuid(0x80000001, 0, r);
		CHECK(r[3] & (1U << 29), "0x80000001 edx.LM (we run in long mode)");
		CHECK(r[3] & (1U << 11), "0x80000001 edx.SYSCALL");
	}
	/* A leaf far beyond the maximum must not fault. */
	cpuid(0x4fffffff, 0, r);
	CHECK(true, "an out-of-range leaf returns without a fault");
}
