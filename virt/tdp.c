// SPDX-License-Identifier: GPL-2.0
/*
 * Two-dimensional page tables, shared by the hardware engines: AMD's
 * nested page table (svm, npt=1) and Intel's EPT (vmx, ept=1).
 *
 * The table maps guest-physical to host-physical addresses.  It is built
 * lazily: a nested page fault on a guest frame inside a memory slot pins
 * the host page behind it (pin_user_pages_fast with FOLL_LONGTERM, so the
 * host cannot migrate or swap it while the guest uses it, and accounted to
 * the VM creator's pinned_vm against RLIMIT_MEMLOCK) and maps it.  Entries
 * only ever go from not-present to present while the VM lives, so no TLB
 * flush is needed for them; everything is unpinned and freed when the VM
 * goes away.
 *
 * Both formats have a present/readable bit 0, a writable bit 1 and a bit 2
 * that tables set (NPT: user, which nested walks are; EPT: execute), so one
 * walker serves both.  They differ in the depth (NPT: four or five levels,
 * as the host pages, since the CPU walks nested tables in the host's paging
 * mode; EPT: four, as the capability MSR allows) and in the extra bits of a
 * leaf (EPT: the memory type), which the engine gives at init.
 */
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <asm/io.h>
#include <asm/pgtable.h>
#include "gmem.h"
#include "tdp.h"

#define NPT_P		BIT_ULL(0)
#define NPT_RW		BIT_ULL(1)
#define NPT_US		BIT_ULL(2)	/* nested walks are user accesses */
#define NPT_ADDR	GENMASK_ULL(51, 12)
#define NPT_TABLE	(NPT_P | NPT_RW | NPT_US)
/*
 * A leaf taken away but whose page is not unpinned yet: not present for
 * the hardware, bit 11 ignored by both formats while it is not present.
 */
#define NPT_GOING	BIT_ULL(11)

/**
 * hyvm_tdp_init - an empty two-dimensional table
 * @npt: the table
 * @levels: its depth, 4 or 5
 * @leaf_bits: bits every leaf entry carries besides present, writable and
 *	       bit 2 (EPT: its memory type)
 *
 * Return: 0 or -ENOMEM.
 */
int hyvm_tdp_init(struct hyvm_npt *npt, int levels, u64 leaf_bits)
{
	mutex_init(&npt->lock);
	npt->levels = levels;
	npt->leaf_bits = leaf_bits;
	npt->root = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	return npt->root ? 0 : -ENOMEM;
}

/* AMD's nested page table: as deep as the host's own paging. */
int hyvm_npt_init(struct hyvm_npt *npt)
{
	return hyvm_tdp_init(npt, pgtable_l5_enabled() ? 5 : 4, 0);
}

u64 hyvm_npt_root_pa(struct hyvm_npt *npt)
{
	return __pa(npt->root);
}

static unsigned int npt_index(u64 gpa, int level)
{
	return (gpa >> (PAGE_SHIFT + 9 * (level - 1))) & 511;
}

/* Free one table and everything below it; unpin the guest pages. */
static void npt_free_table(struct hyvm_npt *npt, u64 *table, int level)
{
	unsigned int i;

	for (i = 0; i < 512; i++) {
		u64 e = table[i];

		if (!(e & NPT_P))
			continue;
		if (level > 1) {
			npt_free_table(npt, __va(e & NPT_ADDR), level - 1);
			continue;
		}
		hyvm_gmem_unpin(NULL, pfn_to_page((e & NPT_ADDR) >> PAGE_SHIFT),
				e & NPT_RW);
	}
	free_page((unsigned long)table);
}

/**
 * hyvm_npt_destroy - unpin every guest page and free the tables
 * @npt: the table; no vCPU may run on it any more
 * @mm: the mm the pages were pinned from (kept alive by mmgrab)
 */
void hyvm_npt_destroy(struct hyvm_npt *npt, struct mm_struct *mm)
{
	if (!npt->root)
		return;
	npt_free_table(npt, npt->root, npt->levels);
	npt->root = NULL;
	atomic64_sub(npt->pinned, &mm->pinned_vm);
	npt->pinned = 0;
}

/* The slot holding @gfn, or NULL.  Called with vm->lock held. */
static struct hyvm_memslot *npt_find_slot(struct hyvm_vm *vm, u64 gfn)
{
	unsigned int i;

	for (i = 0; i < HYVM_MAX_SLOTS; i++) {
		struct hyvm_memslot *s = vm->slots[i];

		if (s && gfn >= s->base_gfn && gfn - s->base_gfn < s->npages)
			return s;
	}
	return NULL;
}

/**
 * hyvm_npt_map - resolve a nested page fault or an EPT violation
 * @vm: the VM (its slots and creator's mm)
 * @npt: its nested page table
 * @gpa: the faulting guest-physical address
 * @write: the access was a write
 * @mmio: set when @gpa is not guest RAM (outside every slot, or a write to
 *	  a read-only slot): the access is for userspace to emulate
 *
 * Runs in the context of the VM creator (the vCPU ioctl checks that), so
 * the pages are pinned from current->mm.
 *
 * Return: 0 (mapped, or @mmio set), -ENOMEM, or the error of pinning
 * (-EFAULT when userspace unmapped the slot's memory).
 */
int hyvm_npt_map(struct hyvm_vm *vm, struct hyvm_npt *npt, u64 gpa,
		 bool write, bool *mmio)
{
	u64 gfn = gpa >> PAGE_SHIFT;
	struct hyvm_memslot *slot;
	struct page *page;
	bool writable;
	u64 *table;
	int level, ret = 0;
	unsigned long hva;

	*mmio = false;
	if (gpa >> (PAGE_SHIFT + 9 * npt->levels)) {
		*mmio = true;
		return 0;
	}
	mutex_lock(&vm->lock);
	slot = npt_find_slot(vm, gfn);
	if (!slot || (write && (slot->flags & HYVM_MEM_READONLY))) {
		*mmio = true;
		goto out_vm;
	}
	writable = !(slot->flags & HYVM_MEM_READONLY);
	hva = slot->hva + ((gfn - slot->base_gfn) << PAGE_SHIFT);

	mutex_lock(&npt->lock);
	table = npt->root;
	for (level = npt->levels; level > 1; level--) {
		u64 *e = &table[npt_index(gpa, level)];

		if (!(*e & NPT_P)) {
			u64 *next = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);

			if (!next) {
				ret = -ENOMEM;
				goto out;
			}
			npt->tables++;
			/* Zeroed before the hardware can see it. */
			WRITE_ONCE(*e, __pa(next) | NPT_TABLE);
		}
		table = __va(*e & NPT_ADDR);
	}
	table = &table[npt_index(gpa, 1)];
	if (*table & NPT_P)
		goto out;	/* another vCPU mapped it first */
	ret = hyvm_gmem_pin(vm->mm, hva, writable, &page);
	if (ret)
		goto out;
	npt->pinned++;
	WRITE_ONCE(*table, page_to_phys(page) | NPT_P | NPT_US |
			   npt->leaf_bits | (writable ? NPT_RW : 0));
out:
	mutex_unlock(&npt->lock);
out_vm:
	mutex_unlock(&vm->lock);
	return ret;
}

/*
 * Apply @fn to every leaf entry of [@gfn, @end) that exists, skipping
 * absent subtrees.
 */
static void npt_for_each_leaf(struct hyvm_npt *npt, u64 gfn, u64 end,
			      void (*fn)(struct hyvm_npt *npt, u64 *e,
					 void *arg),
			      void *arg)
{
	while (gfn < end) {
		u64 *table = npt->root;
		int level;

		for (level = npt->levels; level > 1; level--) {
			u64 e = table[npt_index(gfn << PAGE_SHIFT, level)];

			if (!(e & NPT_P))
				break;
			table = __va(e & NPT_ADDR);
		}
		if (level > 1) {
			/* Skip to the next entry at that level. */
			u64 span = 1ULL << (9 * (level - 1));

			gfn = (gfn | (span - 1)) + 1;
			continue;
		}
		fn(npt, &table[npt_index(gfn << PAGE_SHIFT, 1)], arg);
		gfn++;
	}
}

static void npt_take(struct hyvm_npt *npt, u64 *e, void *arg)
{
	if (*e & NPT_P)
		WRITE_ONCE(*e, (*e & (NPT_ADDR | NPT_RW)) | NPT_GOING);
}

static void npt_release(struct hyvm_npt *npt, u64 *e, void *arg)
{
	struct mm_struct *mm = arg;

	if (!(*e & NPT_GOING))
		return;
	hyvm_gmem_unpin(mm, pfn_to_page((*e & NPT_ADDR) >> PAGE_SHIFT),
			*e & NPT_RW);
	npt->pinned--;
	WRITE_ONCE(*e, 0);
}

/**
 * hyvm_npt_slot_removed - take a deleted slot's frames out of the table
 * @vm: the VM; its slot is unpublished already
 * @npt: the VM's table
 * @base_gfn: the slot's first frame
 * @npages: its size
 *
 * Clears the leaves, waits until no vCPU can hold them in a TLB, then
 * unpins the pages; the guest's next access to the range is MMIO.
 */
void hyvm_npt_slot_removed(struct hyvm_vm *vm, struct hyvm_npt *npt,
			   u64 base_gfn, u64 npages)
{
	u64 end = base_gfn + npages;

	mutex_lock(&npt->lock);
	npt_for_each_leaf(npt, base_gfn, end, npt_take, NULL);
	hyvm_tlb_flush_all(vm);
	npt_for_each_leaf(npt, base_gfn, end, npt_release, vm->mm);
	mutex_unlock(&npt->lock);
}
