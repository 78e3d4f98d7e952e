// SPDX-License-Identifier: GPL-2.0
/*
 * The translator's kernel side: where each vCPU's translation cache lives
 * in the guest world, how guest code is fetched for it, and how the cache
 * follows the guest's code and page tables.
 *
 * Layout.  PML4 slot 257 (0xffff808000000000) of every kernel-view root
 * holds one GiB per vCPU: the area (struct bt_vcpu_area, read-write), the
 * exit stub (one ud2), the indirect lookup table (read-only) and the
 * translation cache (read-only, executable), all user pages: translated
 * code runs at CPL3.  User-view roots (guest user code) have nothing in
 * slot 257.  One cache per vCPU keeps the translator's contract (the area
 * at one address for every CCF) with roots that the vCPUs share; the
 * caches of a VM are changed only under its xlat lock.
 *
 * Code and mappings.  A TU is keyed by guest linear RIP.  The cache stays
 * right while (1) the guest's bytes do not change: each frame code came
 * from is write-protected in the shadow (a write invalidates the pages
 * that map it, hyvm_bt_xlat_code_written()), and (2) those linear pages
 * map the same frames: after the guest's CR3 changed, or its page tables
 * changed in a way the shadow saw (traced writes, INVLPG), every code
 * page is walked again before translated code runs, and a page that maps
 * elsewhere now is invalidated.
 */
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/vmalloc.h>
#include <asm/io.h>
#include "xlat.h"
#include "translate.h"
#include "../gmem.h"
#include "../shadow_host.h"
#include "../shadow/walk.h"
#include "../hyvm_trace.h"

#define PTE_P		0x001ULL
#define PTE_W		0x002ULL
#define PTE_U		0x004ULL
#define PTE_A		0x020ULL
#define PTE_D		0x040ULL
#define PTE_UTABLE	(PTE_P | PTE_W | PTE_U | PTE_A)

static u64 nx_bit(void)
{
	return __supported_pte_mask & _PAGE_NX;
}

/**
 * hyvm_bt_xlat_vm_init - slot 257 of a VM's kernel-view roots
 * @vm: the VM, with its shadow MMU and VMM region set
 * @xv: receives the slot's PDPT
 *
 * Return: 0, -ENOMEM or -EINVAL.
 */
int hyvm_bt_xlat_vm_init(struct hyvm_vm *vm, struct bt_xlat_vm *xv)
{
	int ret;

	mutex_init(&xv->lock);
	INIT_LIST_HEAD(&xv->xls);
	xv->pdpt = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!xv->pdpt)
		return -ENOMEM;
	ret = hyvm_shost_set_fixed_kernel(vm, BT_XLAT_PML4_SLOT,
					  page_to_phys(xv->pdpt) | PTE_UTABLE);
	if (ret)
		hyvm_bt_xlat_vm_destroy(xv);
	return ret;
}

void hyvm_bt_xlat_vm_destroy(struct bt_xlat_vm *xv)
{
	if (xv->pdpt)
		__free_page(xv->pdpt);
	xv->pdpt = NULL;
}

/* Map @bytes of vmalloc memory at @buf with @flags into page table @pt. */
static void map_vmalloc(u64 *pt, void *buf, unsigned long bytes, u64 flags)
{
	unsigned long i;

	for (i = 0; i < bytes >> PAGE_SHIFT; i++)
		pt[i] = page_to_phys(vmalloc_to_page(buf + i * PAGE_SIZE)) |
			flags;
}

/*
 * Write-protect @gfn as code (a frame code came from, or a page table on
 * the way to one).  The protection goes when the guest writes the frame;
 * the next revalidation or translation sets it again.
 */
static int protect(struct bt_xlat *xl, u64 gfn)
{
	return hyvm_shost_protect_code(xl->vcpu->vm, gfn);
}

/* Protect the guest page tables @w went through. */
static int protect_path(struct bt_xlat *xl, const struct hyvm_walk *w)
{
	int l, ret;

	for (l = w->levels; l >= w->leaf_level && l >= 1; l--) {
		ret = protect(xl, w->pte_gpa[l] >> PAGE_SHIFT);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Remember that translated code came from linear page @lpage, frame
 * @gfn.  A full list asks for a flush of the cache (done before the next
 * entry, not in the middle of a translation).
 */
static int note_code(struct bt_xlat *xl, u64 lpage, u64 gfn)
{
	u32 i;

	for (i = 0; i < xl->nr_code; i++)
		if (xl->code[i].lpage == lpage && xl->code[i].gfn == gfn)
			return 0;
	if (xl->nr_code == BT_XLAT_MAX_CODE) {
		xl->flush_pending = true;
		return 0;
	}
	xl->code[xl->nr_code].lpage = lpage;
	xl->code[xl->nr_code].gfn = gfn;
	xl->nr_code++;
	return protect(xl, gfn);
}

static void drop_code(struct bt_xlat *xl, u32 i, bool written)
{
	unsigned int n = bt_tc_invalidate_page(&xl->tc, xl->code[i].lpage);

	trace_hyvm_bt_invalidate(xl->vcpu->vm->id, xl->vcpu->id,
				 xl->code[i].lpage, xl->code[i].gfn, n, written);
	xl->code[i] = xl->code[--xl->nr_code];
}

/**
 * hyvm_bt_xlat_get - the TU at a guest RIP, translated now if need be
 * @xl: the vCPU's translator, under the xlat lock
 * @rip: guest RIP
 *
 * Return: the TU, or NULL when even an empty cache cannot hold it.
 */
struct bt_tu *hyvm_bt_xlat_get(struct bt_xlat *xl, u64 rip)
{
	struct bt_tu *tu = bt_tc_lookup(&xl->tc, rip);

	if (tu)
		return tu;
	tu = bt_translate(&xl->tc, rip);
	if (tu)
		trace_hyvm_bt_translate(xl->vcpu->vm->id, xl->vcpu->id, rip,
					bt_tu_exec(&xl->tc, tu), tu->ninsns,
					tu->glen, tu->tc_len);
	return tu;
}

static void xlat_mem(struct bt_xlat *xl, struct hyvm_gmem_ops *mem,
		     struct hyvm_paging_mode *m)
{
	struct x86_emu *e = xl->e;

	hyvm_gmem_ops_init(mem, xl->vcpu->vm);
	memset(m, 0, sizeof(*m));
	m->cr0 = e->cr0;
	m->cr3 = e->cr3;
	m->cr4 = e->cr4;
	m->efer = e->efer;
	m->maxphyaddr = xl->maxphyaddr;
}

/**
 * hyvm_bt_xlat_revalidate - check every code page against the guest's tables
 * @xl: the vCPU's translator state, under the VM's xlat lock
 *
 * Pages that no longer map the frame their code came from are
 * invalidated; the tables on the way to the others are protected again.
 *
 * Return: 0 or a negative errno (no memory for the protection).
 */
int hyvm_bt_xlat_revalidate(struct bt_xlat *xl)
{
	struct hyvm_gmem_ops mem;
	struct hyvm_paging_mode m;
	u32 i = 0;
	int ret;

	xlat_mem(xl, &mem, &m);
	xl->stat.revalidations++;
	xl->last_fetch_page = ~0ULL;
	while (i < xl->nr_code) {
		struct bt_code_page *c = &xl->code[i];
		struct hyvm_walk w;

		if (hyvm_walk(&mem, &m, c->lpage, HYVM_ACC_FETCH, &w) !=
		    HYVM_WALK_OK || (w.gpa >> PAGE_SHIFT) != c->gfn) {
			xl->stat.stale_pages++;
			drop_code(xl, i, false);
			continue;
		}
		ret = protect_path(xl, &w);
		if (!ret)
			ret = protect(xl, c->gfn);
		if (ret)
			return ret;
		i++;
	}
	return 0;
}

/* One vCPU's translations from frame @gfn go; its code is walked again. */
static void xl_code_written(struct bt_xlat *xl, u64 gfn)
{
	u32 i = 0;

	while (i < xl->nr_code) {
		if (xl->code[i].gfn == gfn) {
			xl->stat.code_writes++;
			drop_code(xl, i, true);
			continue;
		}
		i++;
	}
	xl->reval = true;
	xl->last_fetch_page = ~0ULL;
}

/**
 * hyvm_bt_xlat_code_written - the guest wrote a frame protected as code
 * @xv: the VM's translators
 * @vm: the VM
 * @gfn: the frame
 * @locked: the caller holds @xv's lock
 *
 * Every vCPU's translations from it are invalidated; since it may also be
 * a page table on the way to code, every vCPU walks its code pages again
 * before translated code runs next (which protects the tables again).
 * The frame itself is protected again when code is translated from it.
 */
void hyvm_bt_xlat_code_written(struct bt_xlat_vm *xv, struct hyvm_vm *vm,
			       u64 gfn, bool locked)
{
	struct bt_xlat *xl;

	if (!locked)
		mutex_lock(&xv->lock);
	list_for_each_entry(xl, &xv->xls, node)
		xl_code_written(xl, gfn);
	hyvm_shost_unprotect_code(vm, gfn);
	if (!locked)
		mutex_unlock(&xv->lock);
}

/**
 * hyvm_bt_xlat_slot_removed - guest frames went away
 * @xv: the VM's translators
 * @vm: the VM
 * @base_gfn: first frame
 * @npages: frames
 */
void hyvm_bt_xlat_slot_removed(struct bt_xlat_vm *xv, struct hyvm_vm *vm,
			       u64 base_gfn, u64 npages)
{
	struct bt_xlat *xl;
	u32 i;

	mutex_lock(&xv->lock);
	list_for_each_entry(xl, &xv->xls, node) {
		i = 0;
		while (i < xl->nr_code) {
			u64 gfn = xl->code[i].gfn;

			if (gfn - base_gfn < npages) {
				hyvm_shost_unprotect_code(vm, gfn);
				drop_code(xl, i, false);
				continue;
			}
			i++;
		}
		xl->reval = true;
		xl->last_fetch_page = ~0ULL;
	}
	mutex_unlock(&xv->lock);
}

/* The cache from scratch: after it filled up, or its code list did. */
void hyvm_bt_xlat_flush(struct bt_xlat *xl)
{
	bt_tc_flush(&xl->tc);
	xl->nr_code = 0;
	xl->flush_pending = false;
	xl->last_fetch_page = ~0ULL;
}

/*
 * Guest code for the translator: what the guest kernel could fetch at
 * @rip, with the guest's paging (supervisor, instruction fetch), up to the
 * first byte it could not.  Every frame read is remembered and
 * write-protected, so that a write to it invalidates the translation.
 */
static unsigned int xlat_fetch(void *opaque, u64 rip, u8 *buf, unsigned int n)
{
	struct bt_xlat *xl = opaque;
	struct hyvm_vm *vm = xl->vcpu->vm;
	struct hyvm_gmem_ops mem;
	struct hyvm_paging_mode m;
	unsigned int got = 0;

	xlat_mem(xl, &mem, &m);

	while (got < n) {
		u64 la = rip + got;
		unsigned int chunk = min_t(u64, n - got,
					   PAGE_SIZE - (la & ~PAGE_MASK));
		struct hyvm_walk w;

		if (hyvm_walk(&mem, &m, la, HYVM_ACC_FETCH, &w) != HYVM_WALK_OK)
			break;
		if ((la & PAGE_MASK) != xl->last_fetch_page) {
			if (protect_path(xl, &w) ||
			    note_code(xl, la & PAGE_MASK, w.gpa >> PAGE_SHIFT))
				break;
			xl->last_fetch_page = la & PAGE_MASK;
		}
		if (hyvm_gmem_read(vm, w.gpa, buf + got, chunk))
			break;
		got += chunk;
	}
	return got;
}

/**
 * hyvm_bt_xlat_vcpu_init - a vCPU's cache, table and area in slot 257
 * @xv: the VM's slot
 * @xl: the vCPU's translator state, zeroed
 * @vcpu: the vCPU
 * @e: its guest state (fetch walks the guest's tables with it)
 * @maxphyaddr: the guest's physical-address width
 *
 * Return: 0, -EINVAL for a vCPU id beyond the slot, -ENOMEM.
 */
int hyvm_bt_xlat_vcpu_init(struct bt_xlat_vm *xv, struct bt_xlat *xl,
			   struct hyvm_vcpu *vcpu, struct x86_emu *e,
			   u8 maxphyaddr)
{
	static const u8 ud2[] = { 0x0f, 0x0b };
	struct bt_tc_config cfg;
	u64 *pd, *pt;
	int i, ret;

	if (vcpu->id >= 512)
		return -EINVAL;
	xl->vcpu = vcpu;
	xl->e = e;
	xl->maxphyaddr = maxphyaddr;
	xl->base = BT_XLAT_BASE + ((u64)vcpu->id << 30);
	xl->pd = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	xl->area_page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	xl->stub_page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	for (i = 0; i < 3; i++)
		xl->pt[i] = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	xl->ht_buf = vzalloc(BT_XLAT_HT_BYTES);
	xl->tc_buf = vzalloc(BT_XLAT_TC_SIZE);
	ret = -ENOMEM;
	if (!xl->pd || !xl->area_page || !xl->stub_page || !xl->pt[0] ||
	    !xl->pt[1] || !xl->pt[2] || !xl->ht_buf || !xl->tc_buf)
		goto err;
	xl->area = page_address(xl->area_page);
	/* What follows the ud2 never runs: fill the page with more ud2s. */
	for (i = 0; i < PAGE_SIZE; i += 2)
		memcpy((u8 *)page_address(xl->stub_page) + i, ud2, 2);

	pt = page_address(xl->pt[0]);
	pt[BT_XLAT_AREA_OFF >> PAGE_SHIFT] = page_to_phys(xl->area_page) |
		PTE_P | PTE_W | PTE_U | PTE_A | PTE_D | nx_bit();
	pt[BT_XLAT_STUB_OFF >> PAGE_SHIFT] = page_to_phys(xl->stub_page) |
		PTE_P | PTE_U | PTE_A;
	map_vmalloc(page_address(xl->pt[1]), xl->ht_buf, BT_XLAT_HT_BYTES,
		    PTE_P | PTE_U | PTE_A | nx_bit());
	map_vmalloc(page_address(xl->pt[2]), xl->tc_buf, BT_XLAT_TC_SIZE,
		    PTE_P | PTE_U | PTE_A);
	pd = page_address(xl->pd);
	pd[BT_XLAT_AREA_OFF >> 21] = page_to_phys(xl->pt[0]) | PTE_UTABLE;
	pd[BT_XLAT_HT_OFF >> 21] = page_to_phys(xl->pt[1]) | PTE_UTABLE;
	pd[BT_XLAT_TC_OFF >> 21] = page_to_phys(xl->pt[2]) | PTE_UTABLE;

	memset(&cfg, 0, sizeof(cfg));
	cfg.tc_buf = xl->tc_buf;
	cfg.tc_exec = xl->base + BT_XLAT_TC_OFF;
	cfg.tc_size = BT_XLAT_TC_SIZE;
	cfg.area_exec = xl->base + BT_XLAT_AREA_OFF;
	cfg.ht = xl->ht_buf;
	cfg.ht_exec = xl->base + BT_XLAT_HT_OFF;
	cfg.exit_stub = bt_xlat_exit_stub(xl);
	cfg.max_tus = BT_XLAT_MAX_TUS;
	cfg.fetch = xlat_fetch;
	cfg.opaque = xl;
	cfg.callout_at = hyvm_bt_xlat_callout_at;
	cfg.amd = boot_cpu_data.x86_vendor == X86_VENDOR_AMD ||
		  boot_cpu_data.x86_vendor == X86_VENDOR_HYGON;
	ret = bt_tc_init(&xl->tc, &cfg);
	if (ret)
		goto err;
	((u64 *)page_address(xv->pdpt))[vcpu->id] = page_to_phys(xl->pd) |
						    PTE_UTABLE;
	xl->last_fetch_page = ~0ULL;
	mutex_lock(&xv->lock);
	list_add(&xl->node, &xv->xls);
	mutex_unlock(&xv->lock);
	return 0;

err:
	hyvm_bt_xlat_vcpu_destroy(xv, xl);
	return ret;
}

void hyvm_bt_xlat_vcpu_destroy(struct bt_xlat_vm *xv, struct bt_xlat *xl)
{
	int i;

	if (xl->node.next) {
		mutex_lock(&xv->lock);
		list_del(&xl->node);
		mutex_unlock(&xv->lock);
	}
	/* The vCPU never runs again: no CPU is in its world. */
	if (xv->pdpt && xl->vcpu &&
	    ((u64 *)page_address(xv->pdpt))[xl->vcpu->id])
		((u64 *)page_address(xv->pdpt))[xl->vcpu->id] = 0;
	if (xl->tc.tus)
		bt_tc_destroy(&xl->tc);
	vfree(xl->tc_buf);
	vfree(xl->ht_buf);
	for (i = 0; i < 3; i++)
		if (xl->pt[i])
			__free_page(xl->pt[i]);
	if (xl->stub_page)
		__free_page(xl->stub_page);
	if (xl->area_page)
		__free_page(xl->area_page);
	if (xl->pd)
		__free_page(xl->pd);
	xl->pd = NULL;
	xl->tc_buf = xl->ht_buf = NULL;
}

static const char *const exit_names[BT_EXIT_NR] = {
	[BT_EXIT_NONE] = "none",
	[BT_EXIT_TRANSLATE] = "translate",
	[BT_EXIT_IND_MISS] = "ind_miss",
	[BT_EXIT_CALLOUT] = "callout",
	[BT_EXIT_UD] = "ud",
	[BT_EXIT_IRQ_WINDOW] = "irq_window",
};

struct xlat_stat_name {
	const char *name;
	size_t off;
};

#define TC_STAT(f)	{ "bt_tc_" #f, offsetof(struct bt_tc_stats, f) }
#define XL_STAT(f)	{ "bt_tc_" #f, offsetof(struct bt_xlat_stat, f) }

/* The cache's own counters (struct bt_tc_stats). */
static const struct xlat_stat_name tc_stat_names[] = {
	TC_STAT(tus), TC_STAT(ccf_bytes), TC_STAT(chains),
	TC_STAT(translate_exits), TC_STAT(ind_misses), TC_STAT(callouts),
	TC_STAT(ud_exits), TC_STAT(irq_exits), TC_STAT(invalidations),
	TC_STAT(flushes), TC_STAT(bad_exits),
};

/* The kernel side's (struct bt_xlat_stat), arrays apart. */
static const struct xlat_stat_name xl_stat_names[] = {
	XL_STAT(entries), XL_STAT(pf_hidden), XL_STAT(pf_guest),
	XL_STAT(pf_emulate), XL_STAT(interrupts), XL_STAT(resumes),
	XL_STAT(revalidations), XL_STAT(stale_pages), XL_STAT(code_writes),
	XL_STAT(trace_faults), XL_STAT(adaptations), XL_STAT(unadaptations),
};

static void show_stats(struct seq_file *m, const void *base,
		       const struct xlat_stat_name *t, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		seq_printf(m, "%s %llu\n", t[i].name,
			   READ_ONCE(*(const u64 *)(base + t[i].off)));
}

/**
 * hyvm_bt_xlat_stats_show - the translator's counters, for debugfs
 * @xl: a vCPU's translator
 * @m: the vCPU's stats file
 *
 * Read without the lock: each value is one word, possibly a moment old.
 */
void hyvm_bt_xlat_stats_show(struct bt_xlat *xl, struct seq_file *m)
{
	const struct bt_xlat_stat *x = &xl->stat;
	unsigned int i;

	show_stats(m, &xl->tc.stats, tc_stat_names, ARRAY_SIZE(tc_stat_names));
	show_stats(m, x, xl_stat_names, ARRAY_SIZE(xl_stat_names));
	seq_printf(m, "bt_tc_ind_lookups %llu\n",
		   READ_ONCE(xl->area->ind_lookups));
	seq_printf(m, "bt_tc_code_pages %u\n", READ_ONCE(xl->nr_code));
	for (i = 1; i < BT_EXIT_NR; i++)
		seq_printf(m, "bt_tc_exit_%s %llu\n", exit_names[i],
			   READ_ONCE(x->ccf_exits[i]));
	for (i = 0; i < 32; i++)
		if (READ_ONCE(x->faults[i]))
			seq_printf(m, "bt_tc_fault_%u %llu\n", i,
				   READ_ONCE(x->faults[i]));
}
