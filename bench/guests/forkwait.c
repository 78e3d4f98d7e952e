// SPDX-License-Identifier: GPL-2.0
/*
 * forkwait: the paper's process-creation microbenchmark, on the smallest
 * process model that shows what it costs a VMM: address spaces.
 *
 * A process is one address space: PML4 slot 0 (the identity map with the
 * image, shared by all, the "kernel half") and PML4 slot 1, its own, with
 * a data page and a stack page.  One operation is a fork and a wait:
 * the guest kernel builds the child's address space from the parent's
 * (copies the 512 top-level entries, links its own three table levels,
 * copies the data page: an eager copy, not copy-on-write), switches CR3
 * to it, runs the child in ring 3 until it exits with SYSCALL, switches
 * back to the parent and checks the child's exit value.  The child's
 * frames are reused by the next child, as a freed page would be.
 *
 * The parent here is the guest kernel itself acting for a process; a
 * Linux guest's fork and wait, when Linux guests boot, will join it.
 */
#include "bench.h"

const char guest_name[] = "forkwait";

#define PROC_BASE	0x8000000000ULL	/* PML4 slot 1 */
#define DATA_VA		PROC_BASE
#define STACK_VA	(PROC_BASE + PAGE_SIZE)
#define UFLAGS		(PTE_P | PTE_W | PTE_U)
#define MAGIC		0x5eed0000

struct proc {
	uint64_t *pml4, *pdpt, *pd, *pt, *data, *stack;
};

static struct proc parent, child;

static void proc_alloc(struct proc *p)
{
	p->pml4 = rt_alloc_page();
	p->pdpt = rt_alloc_page();
	p->pd = rt_alloc_page();
	p->pt = rt_alloc_page();
	p->data = rt_alloc_page();
	p->stack = rt_alloc_page();
}

/* The child's address space from the parent's, as fork does it. */
static void proc_fork(struct proc *c, const struct proc *p)
{
	int i;

	for (i = 0; i < 512; i++)
		c->pml4[i] = p->pml4[i];
	c->pml4[1] = (uint64_t)c->pdpt | UFLAGS;
	c->pdpt[0] = (uint64_t)c->pd | UFLAGS;
	c->pd[0] = (uint64_t)c->pt | UFLAGS;
	c->pt[0] = (uint64_t)c->data | UFLAGS;
	c->pt[1] = (uint64_t)c->stack | UFLAGS;
	for (i = 0; i < 512; i++)
		c->data[i] = p->data[i];
}

/* The child, in ring 3: reads what the parent left, writes its own copy. */
static long child_main(long arg)
{
	volatile uint64_t *d = (volatile uint64_t *)DATA_VA;

	d[1] = arg;
	return d[0] + arg;
}

static unsigned int bad;

static void forkwait(uint64_t i)
{
	long ret;

	proc_fork(&child, &parent);
	write_cr3((uint64_t)child.pml4);
	ret = rt_run_user(child_main, i, (void *)(STACK_VA + PAGE_SIZE));
	write_cr3((uint64_t)parent.pml4);
	bad += ret != (long)(MAGIC + i);
}

void guest_main(const struct hyvm_boot_info *bi)
{
	extern char __image_end[];
	struct bench_args a = bench_args(bi);
	uint64_t *boot = (uint64_t *)(read_cr3() & PTE_ADDR);
	struct proc origin = { 0 };
	uint64_t i, t0, t;

	/* Slot 0 reachable from ring 3 before it is shared by copying. */
	rt_set_user(0x100000, (uint64_t)__image_end - 0x100000);
	proc_alloc(&parent);
	proc_alloc(&child);
	/* The first process: forked from the boot tables and a data page. */
	origin.pml4 = boot;
	origin.data = rt_alloc_page();
	origin.data[0] = MAGIC;
	proc_fork(&parent, &origin);
	write_cr3((uint64_t)parent.pml4);
	CHECK(*(volatile uint64_t *)DATA_VA == MAGIC, "the parent sees its data page");

	for (i = 0; i < a.warm; i++)
		forkwait(i);
	bench_begin(&a);
	t0 = bench_rdtsc();
	for (i = 0; i < a.n; i++)
		forkwait(i);
	t = bench_rdtsc() - t0;
	bench_end(&a);
	bench_report(&a, t);
	CHECK(!bad, "every child saw the parent's data and exited with its value (%u did not)",
	      bad);
	CHECK(*(volatile uint64_t *)(DATA_VA + 8) == 0,
	      "the children's writes stayed in their own copies");
}
