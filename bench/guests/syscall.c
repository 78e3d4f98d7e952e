// SPDX-License-Identifier: GPL-2.0
/*
 * syscall: a user -> kernel -> user round trip.  Ring-3 code issues
 * SYSCALL (the runtime's SYS_ADD, which does almost nothing) and the
 * kernel returns with SYSRET.  The loop and its rdtsc run at CPL3, so the
 * numbers include only the transitions and the runtime's syscall path.
 */
#include "bench.h"

const char guest_name[] = "syscall";

static uint8_t user_stack[8192] __attribute__((aligned(4096)));
static struct bench_args args;
static uint64_t cycles;
static long sum;

/* Run twice: the untimed warm-up, then (timed = 1) the measurement. */
static long user_loop(long timed)
{
	uint64_t i, t0;
	long s = 0;

	if (!timed) {
		for (i = 0; i < args.warm; i++)
			s += rt_user_syscall(SYS_ADD, 1, 0);
		sum += s;
		return 0;
	}
	t0 = bench_rdtsc();
	for (i = 0; i < args.n; i++)
		s += rt_user_syscall(SYS_ADD, 1, 0);
	cycles = bench_rdtsc() - t0;
	sum += s;
	return 0;
}

void guest_main(const struct hyvm_boot_info *bi)
{
	extern char __image_end[];

	args = bench_args(bi);
	/* The image (code, data, the user stack) is reachable from ring 3. */
	rt_set_user(0x100000, (uint64_t)__image_end - 0x100000);
	rt_run_user(user_loop, 0, user_stack + sizeof(user_stack));
	bench_begin(&args);
	rt_run_user(user_loop, 1, user_stack + sizeof(user_stack));
	bench_end(&args);
	bench_report(&args, cycles);
	CHECK(sum == (long)(args.n + args.warm), "%llu syscalls returned their results",
	      (unsigned long long)(args.n + args.warm));
}
