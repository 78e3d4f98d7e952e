// SPDX-License-Identifier: GPL-2.0
/*
 * Page-table helpers over the tables vmtool built (identity map with 2M
 * pages).  Pages come from a bump allocator above the image; a 2M page is
 * split into 4K ones when a guest wants to change part of it.
 */
#include "runtime.h"

static uint64_t next_free, free_end;

void rt_paging_init(const struct hyvm_boot_info *bi);
void rt_paging_init(const struct hyvm_boot_info *bi)
{
	next_free = (bi->free_start + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	free_end = bi->mapped_end < bi->mem_size ? bi->mapped_end : bi->mem_size;
}

void *rt_alloc_page(void)
{
	void *p = (void *)next_free;

	if (next_free + PAGE_SIZE > free_end)
		rt_panic("out of guest memory");
	next_free += PAGE_SIZE;
	memset(p, 0, PAGE_SIZE);
	return p;
}

/* Replaces the 2M mapping in *pde with a table of 512 4K mappings. */
static void split_2m(uint64_t *pde)
{
	uint64_t *pt = rt_alloc_page();
	uint64_t base = *pde & PTE_ADDR & ~0x1fffffULL;
	uint64_t flags = *pde & ~PTE_ADDR & ~PTE_PS;
	int i;

	/* PAT sits at bit 12 in a 2M entry and bit 7 in a 4K one: not used. */
	flags &= ~(1ULL << 12);
	for (i = 0; i < 512; i++)
		pt[i] = (base + i * PAGE_SIZE) | flags;
	*pde = (uint64_t)pt | (flags & (PTE_P | PTE_W | PTE_U)) | PTE_P;
}

uint64_t *rt_pte(uint64_t va)
{
	uint64_t *table = (uint64_t *)(read_cr3() & PTE_ADDR);
	int level;

	for (level = 3; level > 0; level--) {
		uint64_t *e = &table[(va >> (12 + 9 * level)) & 511];

		if (level == 1 && (*e & PTE_P) && (*e & PTE_PS)) {
			split_2m(e);
			write_cr3(read_cr3());
		} else if (level == 2 && (*e & PTE_PS)) {
			rt_panic("1G pages are not supported by rt_pte");
		}
		if (!(*e & PTE_P))
			*e = (uint64_t)rt_alloc_page() | PTE_P | PTE_W;
		table = (uint64_t *)(*e & PTE_ADDR);
	}
	return &table[(va >> 12) & 511];
}

void rt_map(uint64_t va, uint64_t pa, uint64_t flags)
{
	*rt_pte(va) = pa | flags;
	invlpg(va);
}

/* Lets ring 3 reach [va, va + len): the U bit at every level. */
void rt_set_user(uint64_t va, uint64_t len)
{
	uint64_t end = va + len;

	for (va &= ~(PAGE_SIZE - 1); va < end; va += PAGE_SIZE) {
		uint64_t *table = (uint64_t *)(read_cr3() & PTE_ADDR);
		int level;

		rt_pte(va);
		for (level = 3; level >= 0; level--) {
			uint64_t *e = &table[(va >> (12 + 9 * level)) & 511];

			*e |= PTE_U;
			table = (uint64_t *)(*e & PTE_ADDR);
		}
	}
	write_cr3(read_cr3());
}
