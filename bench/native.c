// SPDX-License-Identifier: GPL-2.0
/*
 * The nanobenchmarks natively, in the (emulated) host's userspace: the
 * "native" column beside the engines.  Only the loops that mean something
 * from userspace are here, and some carry a syscall the guest version does
 * not (Documentation/benchmarks.rst):
 *
 *   syscall   getppid() through syscall(2): a real round trip to Linux
 *   callret   a call and its return, as in the guest
 *   pgfault   mmap, a write that faults the page in, munmap
 *   divzero   #DE, delivered as SIGFPE, whose handler skips the division
 *             (signal delivery and sigreturn are much more than an IRET)
 *   ptemod    mprotect toggling a page between read-only and writable,
 *             then a read (the kernel changes the PTE and flushes the TLB)
 *   forkwait  fork() of a child that exits at once, and waitpid()
 *   in, cr8wr are privileged: skipped, with a "skip" line
 *
 * Usage: hyvm-bench-native [N]; prints "bench NAME CYCLES-PER-OP N" lines
 * like the guests, and "skip NAME WHY".
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	/* Unfenced, as in the guests (bench/guests/bench.h says why). */
	asm volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

static void report(const char *name, uint64_t cycles, uint64_t n)
{
	uint64_t tenths = (cycles * 10 + n / 2) / n;

	printf("bench %s %llu.%llu %llu\n", name, (unsigned long long)(tenths / 10),
	       (unsigned long long)(tenths % 10), (unsigned long long)n);
	fflush(stdout);
}

static inline void callret(void)
{
	asm volatile("call 1f\n\t"
		     "jmp 2f\n"
		     "1:\tret\n"
		     "2:" : : : "memory");
}

extern char native_div_insn[], native_div_after[];
static volatile uint64_t fpe_count;

/* Skips the faulting division, the way the guest's #DE handler does. */
static void on_fpe(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;

	if ((uint64_t)uc->uc_mcontext.gregs[REG_RIP] != (uint64_t)native_div_insn)
		abort();
	uc->uc_mcontext.gregs[REG_RIP] = (greg_t)native_div_after;
	fpe_count++;
}

static void __attribute__((noinline)) divzero(void)
{
	asm volatile(".globl native_div_insn, native_div_after\n"
		     "native_div_insn:\n\t"
		     "divl %%ecx\n"
		     "native_div_after:"
		     : : "a"(1), "d"(0), "c"(0) : "memory");
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 10000, i, t0;
	uint64_t warm = n / 10 + 1;
	long pg = sysconf(_SC_PAGESIZE);
	struct sigaction sa;
	volatile char *p;

	if (!n)
		n = 1;

	for (i = 0; i < warm; i++)
		syscall(SYS_getppid);
	t0 = rdtsc();
	for (i = 0; i < n; i++)
		syscall(SYS_getppid);
	report("syscall", rdtsc() - t0, n);

	printf("skip in a port read needs I/O privilege in the host; the VMM's cost has no native counterpart\n");
	printf("skip cr8wr CR8 is writable at CPL0 only\n");

	for (i = 0; i < warm; i++)
		callret();
	t0 = rdtsc();
	for (i = 0; i < n; i++)
		callret();
	report("callret", rdtsc() - t0, n);

	t0 = 0;
	for (i = 0; i < warm + n; i++) {
		uint64_t t = rdtsc();

		p = mmap(NULL, pg, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		p[0] = 1;
		munmap((void *)p, pg);
		if (i >= warm)
			t0 += rdtsc() - t;
	}
	report("pgfault", t0, n);

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fpe;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGFPE, &sa, NULL);
	for (i = 0; i < warm; i++)
		divzero();
	t0 = rdtsc();
	for (i = 0; i < n; i++)
		divzero();
	report("divzero", rdtsc() - t0, n);
	if (fpe_count != warm + n) {
		fprintf(stderr, "divzero: %llu SIGFPE for %llu divisions\n",
			(unsigned long long)fpe_count, (unsigned long long)(warm + n));
		return 1;
	}

	p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	p[0] = 1;
	for (i = 0; i < warm; i++)
		mprotect((void *)p, pg, i & 1 ? PROT_READ | PROT_WRITE : PROT_READ);
	t0 = rdtsc();
	for (i = 0; i < n; i++) {
		mprotect((void *)p, pg, i & 1 ? PROT_READ | PROT_WRITE : PROT_READ);
		(void)p[0];
	}
	report("ptemod", rdtsc() - t0, n);

	/* Fewer: each fork copies the page tables of this process. */
	n = n / 10 + 1;
	t0 = rdtsc();
	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (!pid)
			_exit(0);
		waitpid(pid, NULL, 0);
	}
	report("forkwait", rdtsc() - t0, n);
	return 0;
}
