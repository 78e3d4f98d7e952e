// SPDX-License-Identifier: GPL-2.0
/*
 * divzero: a #DE raised in the guest kernel, delivered through its IDT,
 * and returned from past the faulting division.  The handler only moves
 * the saved RIP, so an operation is delivery, the runtime's trap path
 * (which saves every register) and IRET.
 */
#include "bench.h"

const char guest_name[] = "divzero";

extern char bench_div_insn[], bench_div_after[];
static volatile uint64_t faults;

static bool de(struct trap_frame *f)
{
	if (f->rip != (uint64_t)bench_div_insn)
		return false;
	f->rip = (uint64_t)bench_div_after;
	faults++;
	return true;
}

/* The division is one instruction at a known address, whose end is known. */
static inline void divzero(void)
{
	asm volatile(".globl bench_div_insn, bench_div_after\n"
		     "bench_div_insn:\n\t"
		     "divl %%ecx\n"
		     "bench_div_after:"
		     : : "a"(1), "d"(0), "c"(0) : "memory");
}

static void __attribute__((noinline)) loop(uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		divzero();
}

void guest_main(const struct hyvm_boot_info *bi)
{
	struct bench_args a = bench_args(bi);
	uint64_t t0, t;

	rt_set_handler(0, de);
	loop(a.warm);
	bench_begin(&a);
	t0 = bench_rdtsc();
	loop(a.n);
	t = bench_rdtsc() - t0;
	bench_end(&a);
	bench_report(&a, t);
	CHECK(faults == a.n + a.warm, "every division raised #DE (%llu)",
	      (unsigned long long)faults);
}
