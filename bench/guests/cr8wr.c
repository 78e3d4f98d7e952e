// SPDX-License-Identifier: GPL-2.0
/*
 * cr8wr: writes of the task priority through CR8 in the guest kernel.
 * Priority 0 every time: this guest takes no interrupts, as the paper's
 * did not, so a VMM that lets CR8 writes through without an exit is
 * right to do so.
 */
#include "bench.h"

const char guest_name[] = "cr8wr";

static inline void write_cr8(uint64_t v)
{
	asm volatile("mov %0, %%cr8" : : "r"(v) : "memory");
}

static inline uint64_t read_cr8(void)
{
	uint64_t v;

	asm volatile("mov %%cr8, %0" : "=r"(v));
	return v;
}

void guest_main(const struct hyvm_boot_info *bi)
{
	struct bench_args a = bench_args(bi);
	uint64_t i, t0, t;

	write_cr8(5);
	CHECK(read_cr8() == 5, "CR8 keeps a written priority (%llu)",
	      (unsigned long long)read_cr8());
	for (i = 0; i < a.warm; i++)
		write_cr8(0);
	bench_begin(&a);
	t0 = bench_rdtsc();
	for (i = 0; i < a.n; i++)
		write_cr8(0);
	t = bench_rdtsc() - t0;
	bench_end(&a);
	bench_report(&a, t);
	CHECK(read_cr8() == 0, "CR8 reads 0 after the loop");
}
