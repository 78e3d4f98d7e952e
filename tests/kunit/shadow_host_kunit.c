// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for the shadow MMU's kernel side (virt/shadow_host.c): guest
 * frames resolved through a memory slot and pinned, shadow tables
 * allocated and given back, traced writes, slot removal, the cap, and
 * teardown leaving no table and no page reference behind.
 *
 * Guest memory must be user memory, as vmtool's is: the suite maps some
 * in the process that loads the module (suite_init runs there) and each
 * case borrows that mm.
 */
#include <kunit/test.h>
#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/sched/mm.h>
#include <linux/uaccess.h>
#include "hyvm.h"
#include "shadow_host.h"

#define GUEST_PAGES	32
#define PTE_P		0x001ULL
#define PTE_W		0x002ULL
#define PTE_U		0x004ULL
#define PTE_D		0x040ULL
#define PTE_TABLE	(PTE_P | PTE_W | PTE_U)

static struct mm_struct *shk_mm;
static unsigned long shk_hva;

static int shk_suite_init(struct kunit_suite *suite)
{
	unsigned long a;

	if (!current->mm)
		return -EINVAL;
	a = vm_mmap(NULL, 0, GUEST_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, 0);
	if (IS_ERR_VALUE(a))
		return (int)a;
	shk_hva = a;
	shk_mm = current->mm;
	mmget(shk_mm);
	return 0;
}

static void shk_suite_exit(struct kunit_suite *suite)
{
	if (!shk_mm)
		return;
	if (current->mm == shk_mm)
		vm_munmap(shk_hva, GUEST_PAGES * PAGE_SIZE);
	mmput(shk_mm);
	shk_mm = NULL;
}

struct shk {
	struct hyvm_vm *vm;
	struct hyvm_vcpu *vcpu;
	struct hyvm_memslot *slot;
	struct hyvm_shadow_vcpu v;
	struct hyvm_paging_mode mode;
};

static void put_pte(struct kunit *test, u64 gfn, unsigned int idx, u64 val)
{
	u64 __user *p = (u64 __user *)(shk_hva + gfn * PAGE_SIZE) + idx;

	KUNIT_ASSERT_EQ(test, copy_to_user(p, &val, sizeof(val)), 0UL);
}

static u64 get_pte(struct kunit *test, u64 gfn, unsigned int idx)
{
	u64 __user *p = (u64 __user *)(shk_hva + gfn * PAGE_SIZE) + idx;
	u64 val = 0;

	KUNIT_EXPECT_EQ(test, copy_from_user(&val, p, sizeof(val)), 0UL);
	return val;
}

/*
 * A VM with one slot over the suite's memory and long-mode tables: PML4
 * at frame 1, PDPT at 2, PD at 3; PD entry i points at the page table at
 * frame 4 + i (for @npt of them), whose entries 0-7 map frames 16-23.
 */
static struct shk *shk_setup(struct kunit *test, unsigned int npt)
{
	struct shk *t;
	unsigned int i, j;

	KUNIT_ASSERT_NOT_NULL(test, shk_mm);
	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t);
	t->vm = kunit_kzalloc(test, sizeof(*t->vm), GFP_KERNEL);
	t->vcpu = kunit_kzalloc(test, sizeof(*t->vcpu), GFP_KERNEL);
	t->slot = kunit_kzalloc(test, sizeof(*t->slot), GFP_KERNEL);
	KUNIT_ASSERT_TRUE(test, t->vm && t->vcpu && t->slot);
	/*
	 * The case thread borrows the loader's mm; the reference taken here
	 * is the one its exit drops if an assertion ends it early.
	 */
	mmget(shk_mm);
	kthread_use_mm(shk_mm);
	t->vm->mm = shk_mm;
	t->slot->npages = GUEST_PAGES;
	t->slot->hva = shk_hva;
	t->vm->slots[0] = t->slot;
	t->vcpu->vm = t->vm;
	t->vcpu->guest_cpu = -1;

	KUNIT_ASSERT_EQ(test, clear_user((void __user *)shk_hva,
					 GUEST_PAGES * PAGE_SIZE), 0UL);
	put_pte(test, 1, 0, 0x2000 | PTE_TABLE);
	put_pte(test, 2, 0, 0x3000 | PTE_TABLE);
	for (i = 0; i < npt; i++) {
		put_pte(test, 3, i, ((4 + i) << PAGE_SHIFT) | PTE_TABLE);
		for (j = 0; j < 8; j++)
			put_pte(test, 4 + i, j, ((16 + j) << PAGE_SHIFT) | PTE_TABLE);
	}
	t->mode.cr0 = X86_CR0_PE | X86_CR0_WP | X86_CR0_PG;
	t->mode.cr3 = 0x1000;
	t->mode.cr4 = X86_CR4_PAE;
	t->mode.efer = EFER_LME | EFER_LMA | EFER_NX;
	t->mode.maxphyaddr = 36;
	return t;
}

static void shk_done(void)
{
	kthread_unuse_mm(shk_mm);
	mmput(shk_mm);
}

/* The shadow leaf entry for @gva, or 0. */
static u64 shadow_leaf(u64 root, u64 gva)
{
	u64 *table = __va(root), e = 0;
	int level;

	for (level = 4; level >= 1; level--) {
		e = table[(gva >> (12 + 9 * (level - 1))) & 511];
		if (!(e & PTE_P))
			return 0;
		table = __va(e & GENMASK_ULL(51, 12));
	}
	return e;
}

/* The host frame the shadow maps @gva to, or 0. */
static u64 shadow_pfn(u64 root, u64 gva)
{
	return (shadow_leaf(root, gva) & GENMASK_ULL(51, 12)) >> PAGE_SHIFT;
}

static void shk_lifecycle(struct kunit *test)
{
	long tables0 = atomic_long_read(&hyvm_shadow_live_tables);
	long pins0 = atomic_long_read(&hyvm_shadow_live_pins);
	struct shk *t = shk_setup(test, 1);
	struct hyvm_shadow_fault f;
	struct hyvm_shost *s;
	u64 root, pfn, magic = 0x1234567890abcdefULL, seen = 0;
	void *p;

	KUNIT_ASSERT_EQ(test, hyvm_shost_init(t->vm), 0);
	s = t->vm->shost;
	KUNIT_ASSERT_NOT_NULL(test, s);
	hyvm_shost_vcpu_init(t->vcpu, &t->v);
	KUNIT_ASSERT_EQ(test, hyvm_shost_root(t->vcpu, &t->v, &t->mode, &root), 0);
	KUNIT_EXPECT_NE(test, root, 0ULL);

	/* Hidden fault: filled, one frame pinned, four tables built. */
	KUNIT_EXPECT_EQ(test, hyvm_shost_page_fault(t->vcpu, &t->v, 0, false,
						    0x1000, 0, &f),
			HYVM_SHADOW_RETRY);
	KUNIT_EXPECT_EQ(test, s->pinned, 1UL);
	KUNIT_EXPECT_EQ(test, s->tables, 4UL);
	KUNIT_EXPECT_EQ(test, s->sh.stats.hidden_faults, 1ULL);
	/* The shadow leaf maps the very page behind guest frame 17. */
	put_pte(test, 17, 3, magic);
	pfn = shadow_pfn(root, 0x1000);
	KUNIT_ASSERT_NE(test, pfn, 0ULL);
	p = kmap_local_page(pfn_to_page(pfn));
	seen = ((u64 *)p)[3];
	kunmap_local(p);
	KUNIT_EXPECT_EQ(test, seen, magic);

	/* True fault: not present in the guest, reflected with its code. */
	KUNIT_EXPECT_EQ(test, hyvm_shost_page_fault(t->vcpu, &t->v, 0, false,
						    0x8000, 0, &f),
			HYVM_SHADOW_GUEST_PF);
	KUNIT_EXPECT_EQ(test, f.error_code, 0u);
	KUNIT_EXPECT_EQ(test, f.cr2, 0x8000ULL);

	/* A write sets the guest's dirty flag as hardware would. */
	KUNIT_EXPECT_EQ(test, hyvm_shost_page_fault(t->vcpu, &t->v, 0, false,
						    0x1000, HYVM_PF_W, &f),
			HYVM_SHADOW_RETRY);
	KUNIT_EXPECT_TRUE(test, get_pte(test, 4, 1) & PTE_D);

	/* A store to the traced page table zaps, flushes, and refills. */
	KUNIT_EXPECT_EQ(test, hyvm_shost_write(t->vm, 0x4000 + 8,
					       &(u64){ (20 << PAGE_SHIFT) | PTE_TABLE },
					       8), 0);
	KUNIT_EXPECT_EQ(test, s->sh.stats.traced_writes, 1ULL);
	KUNIT_EXPECT_GE(test, s->sh.stats.zaps, 1ULL);
	KUNIT_EXPECT_GE(test, s->flushes, 1ULL);
	KUNIT_EXPECT_EQ(test, shadow_pfn(root, 0x1000), 0ULL);
	KUNIT_EXPECT_EQ(test, hyvm_shost_page_fault(t->vcpu, &t->v, 0, false,
						    0x1000, 0, &f),
			HYVM_SHADOW_RETRY);
	KUNIT_EXPECT_EQ(test, s->pinned, 2UL);
	KUNIT_EXPECT_NE(test, shadow_pfn(root, 0x1000), pfn);

	/* The slot goes: every mapping of it, then every pin. */
	t->vm->slots[0] = NULL;
	hyvm_shost_slot_removed(t->vm, 0, GUEST_PAGES);
	KUNIT_EXPECT_EQ(test, s->pinned, 0UL);
	KUNIT_EXPECT_EQ(test, shadow_pfn(root, 0x1000), 0ULL);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&hyvm_shadow_live_pins), pins0);
	KUNIT_EXPECT_NE(test, hyvm_shost_page_fault(t->vcpu, &t->v, 0, false,
						    0x1000, 0, &f),
			HYVM_SHADOW_RETRY);
	KUNIT_EXPECT_EQ(test, s->pinned, 0UL);

	hyvm_shost_vcpu_destroy(t->vcpu, &t->v);
	hyvm_shost_destroy(t->vm);
	KUNIT_EXPECT_NULL(test, t->vm->shost);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&hyvm_shadow_live_tables), tables0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&hyvm_shadow_live_pins), pins0);
	shk_done();
}

/* Eight page tables under a cap of five shadow pages: reclaim. */
static void shk_cap(struct kunit *test)
{
	long tables0 = atomic_long_read(&hyvm_shadow_live_tables);
	long pins0 = atomic_long_read(&hyvm_shadow_live_pins);
	struct shk *t = shk_setup(test, 8);
	struct hyvm_shadow_fault f;
	struct hyvm_shost *s;
	u64 root, i;

	KUNIT_ASSERT_EQ(test, hyvm_shost_init(t->vm), 0);
	s = t->vm->shost;
	s->sh.max_pages = 5;
	hyvm_shost_vcpu_init(t->vcpu, &t->v);
	KUNIT_ASSERT_EQ(test, hyvm_shost_root(t->vcpu, &t->v, &t->mode, &root), 0);
	for (i = 0; i < 8; i++)
		KUNIT_EXPECT_EQ(test,
				hyvm_shost_page_fault(t->vcpu, &t->v, 0, false,
						      i << 21, 0, &f),
				HYVM_SHADOW_RETRY);
	KUNIT_EXPECT_GT(test, s->sh.stats.reclaims, 0ULL);
	KUNIT_EXPECT_LE(test, s->sh.stats.shadow_pages, 5ULL);
	/* Reclaimed tables went back to the system (after a flush). */
	KUNIT_EXPECT_EQ(test, (u64)s->tables, s->sh.stats.shadow_pages);
	hyvm_shost_vcpu_destroy(t->vcpu, &t->v);
	hyvm_shost_destroy(t->vm);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&hyvm_shadow_live_tables), tables0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&hyvm_shadow_live_pins), pins0);
	shk_done();
}

/*
 * Code protection of guest frame 17 (mapped at 0x1000): its writable leaf
 * loses W and every TLB is flushed before protect returns; a store then
 * reports CODE_WRITE until the frame is unprotected.
 */
static void shk_code_protect(struct kunit *test)
{
	long tables0 = atomic_long_read(&hyvm_shadow_live_tables);
	long pins0 = atomic_long_read(&hyvm_shadow_live_pins);
	struct shk *t = shk_setup(test, 1);
	struct hyvm_shadow_fault f;
	struct hyvm_shost *s;
	u64 root, flushes;

	KUNIT_ASSERT_EQ(test, hyvm_shost_init(t->vm), 0);
	s = t->vm->shost;
	hyvm_shost_vcpu_init(t->vcpu, &t->v);
	KUNIT_ASSERT_EQ(test, hyvm_shost_root(t->vcpu, &t->v, &t->mode, &root), 0);
	KUNIT_EXPECT_EQ(test, hyvm_shost_page_fault(t->vcpu, &t->v, 0, false,
						    0x1000, HYVM_PF_W, &f),
			HYVM_SHADOW_RETRY);
	KUNIT_EXPECT_TRUE(test, shadow_leaf(root, 0x1000) & PTE_W);

	flushes = s->flushes;
	KUNIT_EXPECT_EQ(test, hyvm_shost_protect_code(t->vm, 17), 0);
	KUNIT_EXPECT_EQ(test, s->flushes, flushes + 1);
	KUNIT_EXPECT_FALSE(test, s->sh.tlb_dirty);
	KUNIT_EXPECT_NE(test, shadow_leaf(root, 0x1000), 0ULL);
	KUNIT_EXPECT_FALSE(test, shadow_leaf(root, 0x1000) & PTE_W);
	KUNIT_EXPECT_EQ(test, s->sh.stats.code_protects, 1ULL);
	/* again: nothing was writable, nothing to flush */
	KUNIT_EXPECT_EQ(test, hyvm_shost_protect_code(t->vm, 17), 0);
	KUNIT_EXPECT_EQ(test, s->flushes, flushes + 1);

	KUNIT_EXPECT_EQ(test, hyvm_shost_page_fault(t->vcpu, &t->v, 0, false,
						    0x1008, HYVM_PF_W, &f),
			HYVM_SHADOW_CODE_WRITE);
	KUNIT_EXPECT_EQ(test, f.gpa, 0x11008ULL);
	KUNIT_EXPECT_FALSE(test, shadow_leaf(root, 0x1000) & PTE_W);
	KUNIT_EXPECT_EQ(test, s->sh.stats.code_write_faults, 1ULL);

	hyvm_shost_unprotect_code(t->vm, 17);
	KUNIT_EXPECT_EQ(test, hyvm_shost_page_fault(t->vcpu, &t->v, 0, false,
						    0x1008, HYVM_PF_W, &f),
			HYVM_SHADOW_RETRY);
	KUNIT_EXPECT_TRUE(test, shadow_leaf(root, 0x1000) & PTE_W);

	/* teardown with a frame still protected leaves nothing behind */
	KUNIT_EXPECT_EQ(test, hyvm_shost_protect_code(t->vm, 18), 0);
	hyvm_shost_vcpu_destroy(t->vcpu, &t->v);
	hyvm_shost_destroy(t->vm);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&hyvm_shadow_live_tables), tables0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&hyvm_shadow_live_pins), pins0);
	shk_done();
}

static struct kunit_case shk_cases[] = {
	KUNIT_CASE(shk_lifecycle),
	KUNIT_CASE(shk_cap),
	KUNIT_CASE(shk_code_protect),
	{}
};

static struct kunit_suite shk_suite = {
	.name = "hyvm_shadow_host",
	.suite_init = shk_suite_init,
	.suite_exit = shk_suite_exit,
	.test_cases = shk_cases,
};

kunit_test_suites(&shk_suite);
