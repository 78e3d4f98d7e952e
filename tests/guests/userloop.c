// SPDX-License-Identifier: GPL-2.0
/*
 * A run of ring-3 code: a sieve of Eratosthenes over user memory, several
 * passes, each ending in a SYSCALL that adds its count to a running sum;
 * then one user page is made read-only and ring 3 stores to it (a true
 * page fault after the shadow had the page writable).  The counts must be
 * exact and the kernel must see what ring 3 wrote.
 *
 * By default it is short (2 pages, 2 passes), as it runs in the suite on
 * every engine, interpreters included.  With the command line "long" it
 * sieves 64 pages 40 times: under bt that is direct execution in the
 * guest world, long enough for host interrupts to arrive there.
 *
 * With the command line "vmm-region" it only maps a user page at
 * 0xffff800000001000 and uses it from ring 3: fine for a CPU, while bt,
 * whose monitor lives there, must stop the VM and say why.
 */
#include "runtime.h"

const char guest_name[] = "userloop";

#define SIEVE_VA	0x40000000ULL

/* Pages, passes, primes below pages * 4096, primes in the first 16 pages. */
struct loop_size {
	long pages, passes, primes, primes_checked;
};
static const struct loop_size short_run = { 2, 2, 1028, 1028 };
static const struct loop_size long_run = { 64, 40, 23000, 6542 };
static const struct loop_size *sz = &short_run;

static uint8_t user_stack[8192] __attribute__((aligned(4096)));

struct loop_results {
	long sum, last, ro_vec;
	uint64_t ro_err;
};
static struct loop_results lr;

/* s[i] = 1 for composites below n; returns the number of primes. */
static long sieve(uint8_t *s, long n)
{
	long i, j, count = 0;

	for (i = 0; i < n; i++)
		s[i] = i < 2;
	for (i = 2; i * i < n; i++)
		if (!s[i])
			for (j = i * i; j < n; j += i)
				s[j] = 1;
	for (i = 0; i < n; i++)
		count += !s[i];
	return count;
}

/*
 * With the command line "vmm-region": a user page at the start of the
 * range x86-64 Linux leaves to hypervisors, which bt's monitor occupies.
 */
#define VMM_VA		0xffff800000001000ULL

static bool streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return *a == *b;
}

static long user_vmm_region(long unused)
{
	*(volatile uint64_t *)VMM_VA = 0x1234;
	return (long)*(volatile uint64_t *)VMM_VA;
}

/* Runs at CPL3: @passes sieves, or with 0 a store to the first page. */
static long user_main(long passes)
{
	long p, count = 0, sum = 0;

	if (!passes) {
		rt_trap_reset();
		asm volatile(RT_TRY "movb $1, (%0)" RT_CATCH
			     : : "r"(SIEVE_VA) : "r11", "memory");
		lr.ro_vec = rt_last_trap.vector;
		lr.ro_err = rt_last_trap.error;
		return 0;
	}
	for (p = 0; p < passes; p++) {
		count = sieve((uint8_t *)SIEVE_VA, sz->pages * PAGE_SIZE);
		sum = rt_user_syscall(SYS_ADD, sum, count);
	}
	lr.sum = sum;
	lr.last = count;
	return count;
}

/* The kernel's count over at most 16 pages of what ring 3 left. */
static long kernel_count(long n)
{
	const uint8_t *s = (const uint8_t *)SIEVE_VA;
	long i, primes = 0;

	for (i = 0; i < n; i++)
		primes += !s[i];
	return primes;
}

void guest_main(const struct hyvm_boot_info *bi)
{
	extern char __image_end[];
	long i, n, ret;

	rt_set_user(0x100000, (uint64_t)__image_end - 0x100000);
	if (bi->cmdline && streq((const char *)bi->cmdline, "vmm-region")) {
		rt_map(VMM_VA, (uint64_t)rt_alloc_page(), PTE_P | PTE_W | PTE_U);
		rt_set_user(VMM_VA, PAGE_SIZE);
		ret = rt_run_user(user_vmm_region, 0,
				  user_stack + sizeof(user_stack));
		CHECK(ret == 0x1234, "ring 3 used a page at %#llx (%#lx)",
		      VMM_VA, ret);
		return;
	}
	if (bi->cmdline && streq((const char *)bi->cmdline, "long"))
		sz = &long_run;
	for (i = 0; i < sz->pages; i++)
		rt_map(SIEVE_VA + i * PAGE_SIZE, (uint64_t)rt_alloc_page(),
		       PTE_P | PTE_W | PTE_U);
	rt_set_user(SIEVE_VA, sz->pages * PAGE_SIZE);

	ret = rt_run_user(user_main, sz->passes,
			  user_stack + sizeof(user_stack));
	CHECK(ret == sz->primes, "ring 3 counted %ld primes below %llu",
	      ret, sz->pages * PAGE_SIZE);
	CHECK(lr.sum == sz->primes * sz->passes,
	      "the SYSCALL after each of %ld passes summed %ld", sz->passes,
	      lr.sum);
	n = (sz->pages < 16 ? sz->pages : 16) * PAGE_SIZE;
	ret = kernel_count(n);
	CHECK(ret == sz->primes_checked,
	      "ring 0 sees the array ring 3 wrote (%ld primes below %ld)",
	      ret, n);

	/* Read-only for everyone: the user store faults with P|W|U. */
	*rt_pte(SIEVE_VA) &= ~PTE_W;
	invlpg(SIEVE_VA);
	rt_run_user(user_main, 0, user_stack + sizeof(user_stack));
	CHECK(lr.ro_vec == 14 && lr.ro_err == (PF_P | PF_W | PF_U),
	      "a ring-3 store to the read-only page: vector %ld error %lx",
	      lr.ro_vec, lr.ro_err);
}
