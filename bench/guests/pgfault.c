// SPDX-License-Identifier: GPL-2.0
/*
 * pgfault: a user page fault that the guest kernel resolves.  Ring-3
 * code writes alternately to two pages A and B that are not present; the
 * #PF handler makes the faulting one present and the other one not
 * present again, so that every write faults once and is then retried.
 * One operation is one fault: delivery, the handler's two PTE writes and
 * one INVLPG, IRET, and the retried write.
 */
#include "bench.h"

const char guest_name[] = "pgfault";

#define PAGE_A	0x8000000000ULL	/* far from the identity map */
#define PAGE_B	(PAGE_A + PAGE_SIZE)

static uint8_t user_stack[8192] __attribute__((aligned(4096)));
static struct bench_args args;
static uint64_t cycles, *pte_a, *pte_b;
static volatile uint64_t faults, wrong;

static bool pf(struct trap_frame *f)
{
	uint64_t page = rt_last_trap.cr2 & ~(PAGE_SIZE - 1);
	uint64_t *mine, *other, other_va;

	if (page == PAGE_A) {
		mine = pte_a, other = pte_b, other_va = PAGE_B;
	} else if (page == PAGE_B) {
		mine = pte_b, other = pte_a, other_va = PAGE_A;
	} else {
		return false;
	}
	if (f->error != (PF_W | PF_U))
		wrong++;
	*mine |= PTE_P;
	*other &= ~PTE_P;
	invlpg(other_va);
	faults++;
	return true;
}

/*
 * Run twice: the untimed warm-up, then (timed = 1) the measurement.  The
 * sequence of pages goes on across both, so that every write faults.
 */
static long user_loop(long timed)
{
	uint64_t i, t0;

	if (!timed) {
		for (i = 0; i < args.warm; i++)
			*(volatile uint64_t *)(i & 1 ? PAGE_B : PAGE_A) = i;
		return 0;
	}
	t0 = bench_rdtsc();
	for (i = args.warm; i < args.warm + args.n; i++)
		*(volatile uint64_t *)(i & 1 ? PAGE_B : PAGE_A) = i;
	cycles = bench_rdtsc() - t0;
	return 0;
}

void guest_main(const struct hyvm_boot_info *bi)
{
	extern char __image_end[];

	args = bench_args(bi);
	rt_set_user(0x100000, (uint64_t)__image_end - 0x100000);
	rt_map(PAGE_A, (uint64_t)rt_alloc_page(), PTE_P | PTE_W | PTE_U);
	rt_map(PAGE_B, (uint64_t)rt_alloc_page(), PTE_P | PTE_W | PTE_U);
	rt_set_user(PAGE_A, 2 * PAGE_SIZE);
	pte_a = rt_pte(PAGE_A);
	pte_b = rt_pte(PAGE_B);
	*pte_a &= ~PTE_P;
	*pte_b &= ~PTE_P;
	invlpg(PAGE_A);
	invlpg(PAGE_B);
	rt_set_handler(14, pf);

	rt_run_user(user_loop, 0, user_stack + sizeof(user_stack));
	bench_begin(&args);
	rt_run_user(user_loop, 1, user_stack + sizeof(user_stack));
	bench_end(&args);
	bench_report(&args, cycles);
	CHECK(faults == args.n + args.warm, "every write faulted once (%llu faults)",
	      (unsigned long long)faults);
	CHECK(!wrong, "every fault was a user write to a not-present page (%llu not)",
	      (unsigned long long)wrong);
}
