/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every nanobenchmark guest shares: its parameters from the vmtool
 * command line, the TSC, and the report.
 *
 *   --cmdline "n=ITER warm=ITER sync=0|1"
 *
 * n is the number of timed operations (BENCH_N when not given: each guest
 * instruction costs microseconds under an interpreter, so the default is
 * small).  warm untimed operations go first, so that first-touch costs
 * (shadow or nested page-table fills, translations) are not timed.
 * sync=1 makes the guest wait, around its timed loop, for the runner to
 * read the VM's debugfs counters: it prints "bench-mark NAME begin ADDR"
 * and spins until the byte at guest-physical ADDR becomes 1; after the
 * loop it writes '@' to port 0xe9 (one exit, no printf) and spins until
 * the byte becomes 2.  The runner stops vmtool (SIGSTOP) before it reads
 * the counters and writes the byte through /proc/PID/mem, so the
 * counters' difference holds the timed loop, the '@' and the second
 * wait's spins, which the guest counts and reports ("bench-spins NAME S":
 * 4 instructions each, which the report takes off bt's instruction
 * count).  A snapshot after the guest has exited cannot be had: the VM's
 * debugfs directory goes with it.
 *
 * The result line is "bench NAME CYCLES-PER-OP ITERATIONS", the cycles
 * with one decimal, measured with the guest's own rdtsc.
 */
#ifndef BENCH_H
#define BENCH_H

#include "runtime.h"

#ifndef BENCH_N
#define BENCH_N 1000
#endif

struct bench_args {
	uint64_t n, warm, sync;
};

/* The runner finds the page by the magic and the flag by its address. */
struct bench_sync {
	char magic[16];
	volatile uint64_t go;
	uint64_t spins;
};
static struct bench_sync bench_sync __attribute__((used, aligned(64))) = {
	.magic = "hyvm-bench-sync",
};

static inline uint64_t bench_rdtsc(void)
{
	uint32_t lo, hi;

	/*
	 * No lfence around it: bt's interpreter does not emulate fences yet,
	 * and over a loop of N operations an unfenced rdtsc moves the total
	 * by a few cycles at most.
	 */
	asm volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

static uint64_t bench_num(const char *s, const char *key, uint64_t dflt)
{
	size_t k = strlen(key);
	const char *p;

	/* A key counts only at the start of a word: "warm=" is not "n=". */
	for (p = s; p && *p; p++) {
		uint64_t v = 0;

		if ((p != s && p[-1] != ' ') || memcmp(p, key, k) || p[k] != '=')
			continue;
		for (p += k + 1; *p >= '0' && *p <= '9'; p++)
			v = v * 10 + (*p - '0');
		return v;
	}
	return dflt;
}

static inline struct bench_args bench_args(const struct hyvm_boot_info *bi)
{
	const char *c = (const char *)bi->cmdline;
	struct bench_args a;

	a.n = bench_num(c, "n", BENCH_N);
	if (!a.n)
		a.n = 1;
	a.warm = bench_num(c, "warm", a.n / 10 + 1);
	a.sync = bench_num(c, "sync", 0);
	return a;
}

/* Spins until the flag reaches @k: exactly 4 instructions per spin. */
static inline void bench_wait(uint64_t k)
{
	uint64_t spins = 0;

	asm volatile("1:\n\t"
		     "cmpq %1, %2\n\t"
		     "jae 2f\n\t"
		     "incq %0\n\t"
		     "jmp 1b\n"
		     "2:"
		     : "+r"(spins) : "r"(k), "m"(bench_sync.go) : "memory", "cc");
	bench_sync.spins = spins;
}

static inline void bench_begin(const struct bench_args *a)
{
	if (!a->sync)
		return;
	rt_printf("bench-mark %s begin 0x%llx\n", guest_name,
		  (unsigned long long)(uint64_t)&bench_sync.go);
	bench_wait(1);
}

static inline void bench_end(const struct bench_args *a)
{
	if (!a->sync)
		return;
	outb(0xe9, '@');
	bench_wait(2);
}

static inline void bench_report(const struct bench_args *a, uint64_t cycles)
{
	uint64_t tenths = (cycles * 10 + a->n / 2) / a->n;

	rt_printf("bench %s %llu.%llu %llu\n", guest_name,
		  (unsigned long long)(tenths / 10),
		  (unsigned long long)(tenths % 10), (unsigned long long)a->n);
	if (a->sync)
		rt_printf("bench-spins %s %llu\n", guest_name,
			  (unsigned long long)bench_sync.spins);
}

#endif
