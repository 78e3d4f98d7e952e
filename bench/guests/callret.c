// SPDX-License-Identifier: GPL-2.0
/*
 * callret: a call and its return in the guest kernel.  Nothing here is
 * sensitive: hardware VMMs run it at native speed, a translator pays for
 * the return's indirect jump (paper §6.3).
 */
#include "bench.h"

const char guest_name[] = "callret";

/* In asm, so that the compiler can neither inline nor drop the pair. */
static inline void callret(void)
{
	asm volatile("call 1f\n\t"
		     "jmp 2f\n"
		     "1:\tret\n"
		     "2:" : : : "memory");
}

void guest_main(const struct hyvm_boot_info *bi)
{
	struct bench_args a = bench_args(bi);
	uint64_t i, t0, t;

	for (i = 0; i < a.warm; i++)
		callret();
	bench_begin(&a);
	t0 = bench_rdtsc();
	for (i = 0; i < a.n; i++)
		callret();
	t = bench_rdtsc() - t0;
	bench_end(&a);
	bench_report(&a, t);
	CHECK(i == a.n, "%llu call/ret pairs", (unsigned long long)i);
}
