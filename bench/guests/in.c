// SPDX-License-Identifier: GPL-2.0
/*
 * in: a read of an I/O port.  The port is the debug console 0xe9, which
 * vmtool answers in userspace (it reads back 0xe9): every IN is an exit
 * all the way to vmtool and back, heavier than the paper's, which its
 * VMM handled without leaving the monitor.  hyvm has no in-kernel device
 * on a port a guest may read for free yet; when it has, this guest should
 * read that one.
 */
#include "bench.h"

const char guest_name[] = "in";

void guest_main(const struct hyvm_boot_info *bi)
{
	struct bench_args a = bench_args(bi);
	unsigned int bad = 0;
	uint64_t i, t0, t;

	for (i = 0; i < a.warm; i++)
		bad += inb(0xe9) != 0xe9;
	bench_begin(&a);
	t0 = bench_rdtsc();
	for (i = 0; i < a.n; i++)
		bad += inb(0xe9) != 0xe9;
	t = bench_rdtsc() - t0;
	bench_end(&a);
	bench_report(&a, t);
	CHECK(!bad, "every read of port 0xe9 returned 0xe9 (%u did not)", bad);
}
