// SPDX-License-Identifier: GPL-2.0
/*
 * ptemod: a change of a guest PTE that the VMM must observe.  The guest
 * kernel retargets one page between two frames, flushes it with INVLPG
 * and reads it: with shadow paging the write to the page table is traced
 * (or the INVLPG exits) and the shadow entry follows; with nested paging
 * the hardware walks the guest's table itself.  The value read proves the
 * new mapping was seen every time.
 */
#include "bench.h"

const char guest_name[] = "ptemod";

#define PAGE_X	0x8000000000ULL

void guest_main(const struct hyvm_boot_info *bi)
{
	struct bench_args a = bench_args(bi);
	uint64_t *fa = rt_alloc_page(), *fb = rt_alloc_page();
	uint64_t i, t0, t, bad = 0, *pte;

	fa[0] = 0xaaaa;
	fb[0] = 0xbbbb;
	rt_map(PAGE_X, (uint64_t)fa, PTE_P | PTE_W);
	pte = rt_pte(PAGE_X);
	for (i = 0; i < a.warm; i++) {
		*(volatile uint64_t *)pte = (uint64_t)(i & 1 ? fb : fa) | PTE_P | PTE_W;
		invlpg(PAGE_X);
		bad += *(volatile uint64_t *)PAGE_X != (i & 1 ? 0xbbbb : 0xaaaa);
	}
	bench_begin(&a);
	t0 = bench_rdtsc();
	for (i = 0; i < a.n; i++) {
		*(volatile uint64_t *)pte = (uint64_t)(i & 1 ? fb : fa) | PTE_P | PTE_W;
		invlpg(PAGE_X);
		bad += *(volatile uint64_t *)PAGE_X != (i & 1 ? 0xbbbb : 0xaaaa);
	}
	t = bench_rdtsc() - t0;
	bench_end(&a);
	bench_report(&a, t);
	CHECK(!bad, "every read after the PTE change saw the new frame (%llu did not)",
	      (unsigned long long)bad);
}
