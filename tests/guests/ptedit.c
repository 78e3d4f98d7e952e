// SPDX-License-Identifier: GPL-2.0
/*
 * Page-table edits and TLB coherence, what a shadow MMU must trace: after
 * a PTE changes, INVLPG or a CR3 reload makes the new mapping visible;
 * aliases see each other's writes; an edit to a page directory entry takes
 * whole tables in and out; clearing P makes the next access fault.
 */
#include "runtime.h"

const char guest_name[] = "ptedit";

#define VA		0x8000000000ULL
#define VA2		(VA + 0x1000)

static int try_read(uint64_t va, uint64_t *v)
{
	uint64_t x = 0;

	rt_trap_reset();
	asm volatile(RT_TRY "mov (%1), %0" RT_CATCH
		     : "+r"(x) : "r"(va) : "r11", "memory");
	*v = x;
	return rt_last_trap.vector;
}

static uint64_t rd(uint64_t va)
{
	return *(volatile uint64_t *)va;
}

void guest_main(const struct hyvm_boot_info *bi)
{
	uint64_t *a = rt_alloc_page(), *b = rt_alloc_page(), *pte, *pde, v;
	uint64_t *pt2 = rt_alloc_page(), *c = rt_alloc_page(), old_pde;
	int vec;

	a[0] = 0xaaaa;
	b[0] = 0xbbbb;
	c[0] = 0xcccc;
	pte = rt_pte(VA);
	*pte = (uint64_t)a | PTE_P | PTE_W;
	invlpg(VA);
	CHECK(rd(VA) == 0xaaaa, "VA maps page A");

	/* Retarget the PTE: INVLPG must make B visible. */
	*pte = (uint64_t)b | PTE_P | PTE_W;
	invlpg(VA);
	CHECK(rd(VA) == 0xbbbb, "after PTE edit + INVLPG, VA maps page B");

	/* And back, with a CR3 reload instead. */
	*pte = (uint64_t)a | PTE_P | PTE_W;
	write_cr3(read_cr3());
	CHECK(rd(VA) == 0xaaaa, "after PTE edit + CR3 reload, VA maps page A");

	/* Two virtual pages on one physical page see each other's writes. */
	rt_map(VA2, (uint64_t)a, PTE_P | PTE_W);
	*(volatile uint64_t *)VA2 = 0x1234;
	CHECK(rd(VA) == 0x1234 && a[0] == 0x1234, "write through an alias is seen");

	/* Not present: the next access faults, with the right CR2. */
	*pte = 0;
	invlpg(VA);
	vec = try_read(VA, &v);
	CHECK(vec == 14 && rt_last_trap.cr2 == VA, "cleared PTE + INVLPG faults");
	*pte = (uint64_t)b | PTE_P | PTE_W;
	invlpg(VA);
	CHECK(rd(VA) == 0xbbbb, "PTE set again maps B");

	/* Read-only by edit: a write now faults with P|W. */
	*pte = (uint64_t)b | PTE_P;
	invlpg(VA);
	rt_trap_reset();
	asm volatile(RT_TRY "movq $1, (%0)" RT_CATCH : : "r"(VA) : "r11", "memory");
	CHECK(rt_last_trap.vector == 14 && rt_last_trap.error == (PF_P | PF_W),
	      "PTE made read-only: write faults (error %lx)",
	      (uint64_t)rt_last_trap.error);
	CHECK(b[0] == 0xbbbb, "the refused write left B alone");

	/* A page directory edit swaps the whole page table under VA. */
	pt2[0] = (uint64_t)c | PTE_P | PTE_W;
	pde = (uint64_t *)(*(uint64_t *)(*(uint64_t *)((read_cr3() & PTE_ADDR) + 8 * (VA >> 39 & 511)) & PTE_ADDR) & PTE_ADDR);
	pde += (VA >> 21) & 511;
	old_pde = *pde;
	*pde = (uint64_t)pt2 | PTE_P | PTE_W;
	write_cr3(read_cr3());
	CHECK(rd(VA) == 0xcccc, "PDE edit + CR3 reload: VA maps page C");
	*pde = old_pde;
	write_cr3(read_cr3());
	CHECK(rd(VA + 0) == 0xbbbb, "PDE restored: VA maps B again");

	/* The table pages are ordinary memory: writes to the PTE through a
	 * second mapping of the page table are edits like any other. */
	rt_map(VA + 0x10000, (uint64_t)pte & PTE_ADDR, PTE_P | PTE_W);
	((volatile uint64_t *)(VA + 0x10000))[((uint64_t)pte & 0xfff) / 8] =
		(uint64_t)c | PTE_P | PTE_W;
	invlpg(VA);
	CHECK(rd(VA) == 0xcccc, "PTE written through a mapping of its table");

	/* Many edits in a row: each INVLPG'd mapping is the latest. */
	{
		uint64_t *pages[3] = { a, b, c }, want[3] = { 0x1234, 0xbbbb, 0xcccc };
		int i, bad = 0;

		for (i = 0; i < 300; i++) {
			*pte = (uint64_t)pages[i % 3] | PTE_P | PTE_W;
			invlpg(VA);
			if (rd(VA) != want[i % 3])
				bad++;
		}
		CHECK(!bad, "300 PTE edits, each followed by INVLPG (%d stale)", bad);
	}
}
