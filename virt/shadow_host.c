// SPDX-License-Identifier: GPL-2.0
/*
 * The shadow MMU's kernel side: what the portable core in virt/shadow/
 * needs from the host, for the engines that run guests on shadow tables
 * (svm with npt=0, vmx with ept=0, and bt).
 *
 * Guest frames are pinned on demand.  The first time a shadow leaf needs
 * a guest frame, the page behind it in the VM creator's memory is pinned
 * (FOLL_LONGTERM, charged to RLIMIT_MEMLOCK like the nested tables of
 * tdp.c) and recorded in an xarray; it stays pinned until its memory slot
 * is deleted or the VM goes away.  So the host never migrates, reclaims or
 * frees a page a shadow entry may point at, and no MMU notifier is needed;
 * the cost is that a guest's touched memory cannot be swapped while the VM
 * lives, as with KVM's device assignment.  A page userspace unmaps stays
 * allocated (pinned) until the slot is deleted.
 *
 * Shadow tables come from the page allocator, charged to the VM creator's
 * memory cgroup.  Whenever the core removes a present entry or takes
 * rights from it (tlb_dirty), every vCPU must drop its guest TLB before
 * the guest runs again, and no table the core freed, and no page unpinned,
 * may be reused before that has happened: freed tables wait on a list
 * until hyvm_tlb_flush_all() returns.
 *
 * Every call into the core is made under the per-VM @lock.
 */
#include <linux/debugfs.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include "gmem.h"
#include "hyvm_trace.h"
#include "shadow_host.h"

static unsigned long shadow_max_pages = 4096;
module_param(shadow_max_pages, ulong, 0644);
MODULE_PARM_DESC(shadow_max_pages,
		 "shadow page tables per VM before the least recently used are reclaimed (0: no cap, at least 64); new VMs");

/*
 * One instruction and the delivery of the fault it may raise can need a
 * dozen leaves at once (code and operands across page boundaries, stack,
 * IDT, GDT, TSS), each with its path: a smaller cap could evict what the
 * instruction needs next forever.
 */
#define SHADOW_MIN_PAGES	64

/* Across all VMs, for the test of teardown (debugfs shadow_live). */
atomic_long_t hyvm_shadow_live_tables = ATOMIC_LONG_INIT(0);
atomic_long_t hyvm_shadow_live_pins = ATOMIC_LONG_INIT(0);
HYVM_EXPORT_FOR_TESTS(hyvm_shadow_live_tables);
HYVM_EXPORT_FOR_TESTS(hyvm_shadow_live_pins);

static struct hyvm_shost *shost_of(void *opaque)
{
	return opaque;
}

static int sh_gfn_to_hpfn(void *opaque, u64 gfn, u64 *hpfn)
{
	struct hyvm_shost *s = shost_of(opaque);
	struct hyvm_memslot slot;
	struct page *page;
	unsigned long hva;
	int ret;

	page = xa_load(&s->pins, gfn);
	if (page) {
		*hpfn = page_to_pfn(page);
		return 0;
	}
	/*
	 * Read-only slots are ROM: writes must exit to userspace, and the
	 * core cannot map a frame read-only for everyone, so such frames
	 * are emulated like MMIO.
	 */
	if (!hyvm_gpa_slot(s->vm, gfn << PAGE_SHIFT, &slot) ||
	    (slot.flags & HYVM_MEM_READONLY))
		return -ENOENT;
	hva = slot.hva + ((gfn - slot.base_gfn) << PAGE_SHIFT);
	ret = hyvm_gmem_pin(s->vm->mm, hva, true, &page);
	if (ret)
		return ret;
	ret = xa_err(xa_store(&s->pins, gfn, page, GFP_KERNEL_ACCOUNT));
	if (ret) {
		hyvm_gmem_unpin(s->vm->mm, page, false);
		return ret;
	}
	s->pinned++;
	atomic_long_inc(&hyvm_shadow_live_pins);
	*hpfn = page_to_pfn(page);
	return 0;
}

static void *sh_alloc_table(void *opaque, u64 *hpfn)
{
	struct hyvm_shost *s = shost_of(opaque);
	struct page *page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);

	if (!page)
		return NULL;
	s->tables++;
	atomic_long_inc(&hyvm_shadow_live_tables);
	*hpfn = page_to_pfn(page);
	return page_address(page);
}

/* Kept until every vCPU flushed its TLB: see shost_commit(). */
static void sh_free_table(void *opaque, void *table, u64 hpfn)
{
	struct hyvm_shost *s = shost_of(opaque);

	list_add(&virt_to_page(table)->lru, &s->zombies);
}

static void sh_trace_fault(void *opaque, u64 gva, u32 access, int result,
			   const struct hyvm_shadow_fault *f)
{
	trace_hyvm_shadow_fault(shost_of(opaque)->vm->id, gva, access, result,
				f->error_code);
}

static void sh_trace_write(void *opaque, u64 gpa, u64 value,
			   unsigned int size, u64 zapped)
{
	trace_hyvm_shadow_write(shost_of(opaque)->vm->id, gpa, value, size,
				zapped);
}

static int sh_read(void *opaque, u64 gpa, void *buf, unsigned int len)
{
	return hyvm_gmem_read(shost_of(opaque)->vm, gpa, buf, len);
}

static int sh_write(void *opaque, u64 gpa, const void *buf, unsigned int len)
{
	return hyvm_gmem_write(shost_of(opaque)->vm, gpa, buf, len);
}

static int sh_cmpxchg(void *opaque, u64 gpa, u64 old, u64 new,
		      unsigned int size)
{
	return hyvm_gmem_cmpxchg(shost_of(opaque)->vm, gpa, old, new, size);
}

/*
 * After each call into the core: if it took a mapping away, flush every
 * vCPU's guest TLB; then the tables it freed can go back to the system.
 */
static void shost_commit(struct hyvm_shost *s)
{
	struct page *page, *next;

	if (s->sh.tlb_dirty) {
		s->sh.tlb_dirty = false;
		s->flushes++;
		hyvm_tlb_flush_all(s->vm);
	}
	list_for_each_entry_safe(page, next, &s->zombies, lru) {
		list_del(&page->lru);
		__free_page(page);
		s->tables--;
		atomic_long_dec(&hyvm_shadow_live_tables);
	}
}

/**
 * hyvm_shost_init - give a VM a shadow MMU
 * @vm: the VM; vm->shost is set on success
 *
 * Return: 0 or -ENOMEM.
 */
int hyvm_shost_init(struct hyvm_vm *vm)
{
	struct hyvm_shadow_host_ops host = {
		.gfn_to_hpfn = sh_gfn_to_hpfn,
		.alloc_table = sh_alloc_table,
		.free_table = sh_free_table,
		.trace_fault = sh_trace_fault,
		.trace_write = sh_trace_write,
	};
	struct hyvm_gmem_ops mem = {
		.read = sh_read, .write = sh_write, .cmpxchg_gpa = sh_cmpxchg,
	};
	struct hyvm_shost *s;
	unsigned long cap;

	s = kvzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s)
		return -ENOMEM;
	mutex_init(&s->lock);
	s->vm = vm;
	xa_init(&s->pins);
	INIT_LIST_HEAD(&s->zombies);
	host.opaque = s;
	mem.opaque = s;
	cap = READ_ONCE(shadow_max_pages);
	if (cap && cap < SHADOW_MIN_PAGES)
		cap = SHADOW_MIN_PAGES;
	hyvm_shadow_vm_init(&s->sh, &host, &mem, cap);
	vm->shost = s;
	return 0;
}
HYVM_EXPORT_FOR_TESTS(hyvm_shost_init);

static void shost_unpin(struct hyvm_shost *s, unsigned long gfn)
{
	struct page *page = xa_erase(&s->pins, gfn);

	if (!page)
		return;
	hyvm_gmem_unpin(s->vm->mm, page, true);
	s->pinned--;
	atomic_long_dec(&hyvm_shadow_live_pins);
}

/**
 * hyvm_shost_destroy - free every shadow table and unpin every page
 * @vm: the VM; its vCPUs are gone
 */
void hyvm_shost_destroy(struct hyvm_vm *vm)
{
	struct hyvm_shost *s = vm->shost;
	unsigned long gfn;
	struct page *page;

	if (!s)
		return;
	mutex_lock(&s->lock);
	hyvm_shadow_vm_destroy(&s->sh);
	/* No vCPU runs any more: nothing can hold a stale TLB entry. */
	s->sh.tlb_dirty = false;
	shost_commit(s);
	xa_for_each(&s->pins, gfn, page)
		shost_unpin(s, gfn);
	WARN_ON_ONCE(s->tables || s->pinned);
	mutex_unlock(&s->lock);
	xa_destroy(&s->pins);
	vm->shost = NULL;
	kvfree(s);
}
HYVM_EXPORT_FOR_TESTS(hyvm_shost_destroy);

/**
 * hyvm_shost_vcpu_init - a vCPU's shadow state, hardware view
 * @vcpu: the vCPU
 * @v: its shadow state, owned by the engine
 */
void hyvm_shost_vcpu_init(struct hyvm_vcpu *vcpu, struct hyvm_shadow_vcpu *v)
{
	struct hyvm_shost *s = vcpu->vm->shost;

	mutex_lock(&s->lock);
	hyvm_shadow_vcpu_init(v, &s->sh);
	v->hw_view = true;
	mutex_unlock(&s->lock);
}
HYVM_EXPORT_FOR_TESTS(hyvm_shost_vcpu_init);

/**
 * hyvm_shost_vcpu_init_bt - a vCPU's shadow state, kernel and user views
 * @vcpu: the vCPU
 * @v: its shadow state, owned by the engine
 */
void hyvm_shost_vcpu_init_bt(struct hyvm_vcpu *vcpu, struct hyvm_shadow_vcpu *v)
{
	struct hyvm_shost *s = vcpu->vm->shost;

	mutex_lock(&s->lock);
	hyvm_shadow_vcpu_init(v, &s->sh);
	mutex_unlock(&s->lock);
}

/**
 * hyvm_shost_set_fixed - the monitor's top-level entries in every bt root
 * @vm: the VM, before any vCPU ran
 * @first: first top-level slot
 * @n: number of slots
 * @sptes: the entries
 *
 * Return: 0 or -EINVAL.
 */
int hyvm_shost_set_fixed(struct hyvm_vm *vm, u32 first, u32 n,
			 const u64 *sptes)
{
	struct hyvm_shost *s = vm->shost;
	int ret;

	mutex_lock(&s->lock);
	ret = hyvm_shadow_set_fixed(&s->sh, first, n, sptes);
	mutex_unlock(&s->lock);
	return ret;
}

/**
 * hyvm_shost_set_fixed_kernel - a fixed entry of kernel-view roots only
 * @vm: the VM, after hyvm_shost_set_fixed()
 * @slot: top-level slot inside the fixed range
 * @spte: the entry
 *
 * Return: 0 or -EINVAL.
 */
int hyvm_shost_set_fixed_kernel(struct hyvm_vm *vm, u32 slot, u64 spte)
{
	struct hyvm_shost *s = vm->shost;
	int ret;

	mutex_lock(&s->lock);
	ret = hyvm_shadow_set_fixed_kernel(&s->sh, slot, spte);
	mutex_unlock(&s->lock);
	return ret;
}

void hyvm_shost_vcpu_destroy(struct hyvm_vcpu *vcpu,
			     struct hyvm_shadow_vcpu *v)
{
	struct hyvm_shost *s = vcpu->vm->shost;

	if (!s || !v->vm)
		return;
	mutex_lock(&s->lock);
	hyvm_shadow_vcpu_destroy(v);
	shost_commit(s);
	mutex_unlock(&s->lock);
	v->vm = NULL;
}
HYVM_EXPORT_FOR_TESTS(hyvm_shost_vcpu_destroy);

/**
 * hyvm_shost_root_view - a shadow root for the guest's current paging state
 * @vcpu: the vCPU
 * @v: its shadow state
 * @m: the guest's CR0, CR3, CR4 and EFER as the guest sees them, the
 *	physical-address width it is told, and EFLAGS.AC (bt's kernel view
 *	enforces SMAP itself; 0 elsewhere)
 * @view: which root: %HYVM_VIEW_HW for vmx/svm, kernel or user for bt
 * @root_hpa: receives the root to load into the real CR3
 *
 * Tells the core about any change of CR0, CR4, EFER or CR3 since the last
 * call.  The engine must flush the vCPU's guest TLB when the root differs
 * from the one it ran on before (TLBs are not tagged by CR3).
 *
 * Return: 0, -ENOMEM, or -EOPNOTSUPP when the guest is not in long mode
 * with paging (the hardware view shadows long-mode tables only).
 */
int hyvm_shost_root_view(struct hyvm_vcpu *vcpu, struct hyvm_shadow_vcpu *v,
			 const struct hyvm_paging_mode *m,
			 enum hyvm_shadow_view view, u64 *root_hpa)
{
	struct hyvm_shost *s = vcpu->vm->shost;
	int ret = 0;

	mutex_lock(&s->lock);
	if (m->cr0 != v->mode.cr0 || m->cr4 != v->mode.cr4 ||
	    m->efer != v->mode.efer || m->maxphyaddr != v->mode.maxphyaddr ||
	    m->ac != v->mode.ac) {
		struct hyvm_paging_mode n = *m;

		/* CR3 goes through hyvm_shadow_write_cr3() below. */
		n.cr3 = v->mode.cr3;
		hyvm_shadow_set_mode(v, &n, v->cpl);
	}
	if (m->cr3 != v->mode.cr3)
		ret = hyvm_shadow_write_cr3(v, m->cr3);
	if (!ret)
		ret = hyvm_shadow_root(v, view, root_hpa);
	shost_commit(s);
	mutex_unlock(&s->lock);
	return ret;
}

/**
 * hyvm_shost_pt_changes - a count that moves when guest page tables may
 *	have changed in a way the shadow saw (traced writes, INVLPG)
 * @vm: the VM
 *
 * Read without the lock: callers compare it with an earlier value.
 */
u64 hyvm_shost_pt_changes(struct hyvm_vm *vm)
{
	struct hyvm_shost *s = vm->shost;

	return READ_ONCE(s->sh.stats.traced_writes) +
	       READ_ONCE(s->sh.stats.invlpgs);
}

/* The hardware view's root (vmx/svm), see hyvm_shost_root_view(). */
int hyvm_shost_root(struct hyvm_vcpu *vcpu, struct hyvm_shadow_vcpu *v,
		    const struct hyvm_paging_mode *m, u64 *root_hpa)
{
	return hyvm_shost_root_view(vcpu, v, m, HYVM_VIEW_HW, root_hpa);
}
HYVM_EXPORT_FOR_TESTS(hyvm_shost_root);

/**
 * hyvm_shost_hw_can_run - may the hardware run this guest on a shadow root?
 * @e: the guest's state, as the interpreter holds it
 *
 * Shadow tables of the hardware view are long-mode tables: the hardware
 * engines run the guest only in long mode with paging, and interpret it
 * before that.  Also the interpreter's predicate to hand the vCPU back.
 */
bool hyvm_shost_hw_can_run(const struct x86_emu *e)
{
	return (e->cr0 & X86E_CR0_PG) && (e->efer & X86E_EFER_LMA);
}

/**
 * hyvm_shost_hw_root - the shadow root for a hardware engine's next entry
 * @vcpu: the vCPU
 * @sh: its shadow state, with the guest's control registers
 * @maxphyaddr: the physical-address width the guest is told
 *
 * Sets @sh->root, and @sh->flush when the root changed: TLBs are not
 * tagged by CR3, so the engine must flush the vCPU's guest TLB before it
 * runs on another root.
 *
 * Return: 0; -EOPNOTSUPP when the guest is not in long mode with paging
 * (the interpreter must run it); -ENOMEM.
 */
int hyvm_shost_hw_root(struct hyvm_vcpu *vcpu, struct hyvm_shost_vcpu *sh,
		       u8 maxphyaddr)
{
	struct hyvm_paging_mode m = {
		.cr0 = sh->cr0, .cr3 = sh->cr3, .cr4 = sh->cr4,
		.efer = sh->efer, .maxphyaddr = maxphyaddr,
	};
	u64 root;
	int ret;

	if (!(m.cr0 & X86_CR0_PG) || !(m.efer & EFER_LMA))
		return -EOPNOTSUPP;
	ret = hyvm_shost_root(vcpu, &sh->v, &m, &root);
	if (ret)
		return ret;
	if (root != sh->root) {
		sh->root = root;
		sh->flush = true;
	}
	return 0;
}

/**
 * hyvm_shost_page_fault - a #PF the guest took on its shadow table
 * @vcpu: the vCPU
 * @v: its shadow state, current (hyvm_shost_root() was called)
 * @cpl: the guest's CPL at the fault
 * @ac: the guest's EFLAGS.AC at the fault (SMAP)
 * @gva: the faulting address (CR2 of the real fault)
 * @access: the real fault's error code (P, W/R, U/S, I/D)
 * @out: what to do next, see hyvm_shadow_page_fault()
 *
 * A supervisor access made at CPL3 is an implicit one (descriptor tables,
 * the TSS), which SMAP always checks.
 *
 * Return: the action.
 */
enum hyvm_shadow_result hyvm_shost_page_fault(struct hyvm_vcpu *vcpu,
					      struct hyvm_shadow_vcpu *v,
					      u8 cpl, bool ac, u64 gva,
					      u32 access,
					      struct hyvm_shadow_fault *out)
{
	struct hyvm_shost *s = vcpu->vm->shost;
	enum hyvm_shadow_result res;
	u32 acc = access & (HYVM_ACC_WRITE | HYVM_ACC_FETCH);

	if (!(access & HYVM_ACC_USER) && cpl == 3)
		acc |= HYVM_ACC_IMPLICIT;
	memset(out, 0, sizeof(*out));
	mutex_lock(&s->lock);
	/* The error code, not the CPL, says whose access it was. */
	v->cpl = (access & HYVM_ACC_USER) ? 3 : 0;
	v->mode.ac = ac;
	res = hyvm_shadow_page_fault(v, gva, acc, out);
	shost_commit(s);
	mutex_unlock(&s->lock);
	return res;
}
HYVM_EXPORT_FOR_TESTS(hyvm_shost_page_fault);

/**
 * hyvm_shost_invlpg - the guest executed INVLPG (or INVPCID for one page)
 * @vcpu: the vCPU
 * @v: its shadow state
 * @gva: the address
 */
void hyvm_shost_invlpg(struct hyvm_vcpu *vcpu, struct hyvm_shadow_vcpu *v,
		       u64 gva)
{
	struct hyvm_shost *s = vcpu->vm->shost;

	mutex_lock(&s->lock);
	hyvm_shadow_invlpg(v, gva);
	shost_commit(s);
	mutex_unlock(&s->lock);
}

/**
 * hyvm_shost_write - an emulated store to guest RAM
 * @vm: the VM
 * @gpa: where
 * @buf: the bytes
 * @len: how many
 *
 * Stores to frames the shadow traces (guest page tables) go through the
 * core, which zaps the shadow entries they change; others are plain.
 *
 * Return: 0 or the error of the guest memory access.
 */
int hyvm_shost_write(struct hyvm_vm *vm, u64 gpa, const void *buf,
		     unsigned int len)
{
	struct hyvm_shost *s = vm->shost;
	u64 code[2];
	unsigned int ncode = 0, i;
	const u8 *p = buf;
	int ret = 0;

	mutex_lock(&s->lock);
	while (len && !ret) {
		unsigned int n = min_t(unsigned int, len,
				       PAGE_SIZE - (gpa & ~PAGE_MASK));

		if (hyvm_shadow_code_protected(&s->sh, gpa >> PAGE_SHIFT) &&
		    ncode < ARRAY_SIZE(code))
			code[ncode++] = gpa >> PAGE_SHIFT;

		if (!hyvm_shadow_gfn_traced(&s->sh, gpa >> PAGE_SHIFT)) {
			ret = hyvm_gmem_write(vm, gpa, p, n);
		} else {
			unsigned int done, k;

			/* The core takes naturally sized pieces of 8 bytes. */
			for (done = 0; done < n && !ret; done += k) {
				u64 v = 0;

				k = min_t(unsigned int, n - done,
					  8 - ((gpa + done) & 7));
				memcpy(&v, p + done, k);
				ret = hyvm_shadow_traced_write(&s->sh,
							       gpa + done, v, k);
			}
		}
		gpa += n;
		p += n;
		len -= n;
	}
	shost_commit(s);
	mutex_unlock(&s->lock);
	/* Outside the lock: the engine's hook takes its own, then ours. */
	for (i = 0; i < ncode; i++)
		if (s->code_written)
			s->code_written(vm, code[i]);
	return ret;
}
HYVM_EXPORT_FOR_TESTS(hyvm_shost_write);

/**
 * hyvm_shost_set_code_hook - who hears of emulated stores to code frames
 * @vm: the VM, before any vCPU runs
 * @fn: called after hyvm_shost_write() stored to a frame protected as
 *	code (hyvm_shost_protect_code()), without the shadow lock; it is
 *	expected to drop its translations and unprotect the frame
 */
void hyvm_shost_set_code_hook(struct hyvm_vm *vm,
			      void (*fn)(struct hyvm_vm *vm, u64 gfn))
{
	vm->shost->code_written = fn;
}

/**
 * hyvm_shost_protect_code - no vCPU may write guest frame @gfn any more
 * @vm: the VM
 * @gfn: a frame the caller translated code from
 *
 * See hyvm_shadow_protect_code().  Every TLB is flushed before this
 * returns when a writable mapping was taken away, so no vCPU can still
 * store to the frame without faulting: a translation made after the call
 * sees every later store as %HYVM_SHADOW_CODE_WRITE.
 *
 * Return: 0, -ENOMEM, or -ENODEV when the VM has no shadow MMU.
 */
int hyvm_shost_protect_code(struct hyvm_vm *vm, u64 gfn)
{
	struct hyvm_shost *s = vm->shost;
	int ret;

	if (!s)
		return -ENODEV;
	mutex_lock(&s->lock);
	ret = hyvm_shadow_protect_code(&s->sh, gfn);
	shost_commit(s);
	mutex_unlock(&s->lock);
	return ret;
}
HYVM_EXPORT_FOR_TESTS(hyvm_shost_protect_code);

/**
 * hyvm_shost_unprotect_code - guest frame @gfn holds no translated code
 * @vm: the VM
 * @gfn: the frame
 *
 * See hyvm_shadow_unprotect_code(): the next store faults once more and
 * is then mapped writable.
 */
void hyvm_shost_unprotect_code(struct hyvm_vm *vm, u64 gfn)
{
	struct hyvm_shost *s = vm->shost;

	if (!s)
		return;
	mutex_lock(&s->lock);
	hyvm_shadow_unprotect_code(&s->sh, gfn);
	shost_commit(s);
	mutex_unlock(&s->lock);
}
HYVM_EXPORT_FOR_TESTS(hyvm_shost_unprotect_code);

/**
 * hyvm_shost_slot_removed - a memory slot is gone
 * @vm: the VM
 * @base_gfn: its first guest frame
 * @npages: its size
 *
 * Called after the slot was unpublished (no new pin can find it): drops
 * every shadow mapping of its frames, flushes every TLB, and unpins.
 */
void hyvm_shost_slot_removed(struct hyvm_vm *vm, u64 base_gfn, u64 npages)
{
	struct hyvm_shost *s = vm->shost;
	unsigned long gfn;
	struct page *page;

	if (!s)
		return;
	mutex_lock(&s->lock);
	xa_for_each_range(&s->pins, gfn, page, base_gfn,
			  base_gfn + npages - 1)
		hyvm_shadow_zap_gfn(&s->sh, gfn);
	/* Even with nothing zapped: a leaf may have been weakened before. */
	s->sh.tlb_dirty = true;
	shost_commit(s);
	xa_for_each_range(&s->pins, gfn, page, base_gfn,
			  base_gfn + npages - 1)
		shost_unpin(s, gfn);
	mutex_unlock(&s->lock);
}
HYVM_EXPORT_FOR_TESTS(hyvm_shost_slot_removed);

/**
 * hyvm_shost_stats_show - the VM's shadow counters for debugfs
 * @vm: the VM
 * @m: the stats file
 */
void hyvm_shost_stats_show(struct hyvm_vm *vm, struct seq_file *m)
{
	struct hyvm_shost *s = vm->shost;
	struct hyvm_shadow_stats st;
	unsigned long pinned, tables;
	u64 flushes;

	if (!s)
		return;
	mutex_lock(&s->lock);
	st = s->sh.stats;
	pinned = s->pinned;
	tables = s->tables;
	flushes = s->flushes;
	mutex_unlock(&s->lock);
	seq_printf(m, "shadow_hidden_faults %llu\n", st.hidden_faults);
	seq_printf(m, "shadow_true_faults %llu\n", st.true_faults);
	seq_printf(m, "shadow_emulations %llu\n", st.emulations);
	seq_printf(m, "shadow_mmio_faults %llu\n", st.mmio_faults);
	seq_printf(m, "shadow_traced_writes %llu\n", st.traced_writes);
	seq_printf(m, "shadow_pages %llu\n", st.shadow_pages);
	seq_printf(m, "shadow_pages_max %llu\n", st.shadow_pages_max);
	seq_printf(m, "shadow_zaps %llu\n", st.zaps);
	seq_printf(m, "shadow_pages_zapped %llu\n", st.sp_zapped);
	seq_printf(m, "shadow_unshadows %llu\n", st.unshadows);
	seq_printf(m, "shadow_reclaims %llu\n", st.reclaims);
	seq_printf(m, "shadow_root_cache_hits %llu\n", st.root_cache_hits);
	seq_printf(m, "shadow_root_cache_misses %llu\n", st.root_cache_misses);
	seq_printf(m, "shadow_invlpgs %llu\n", st.invlpgs);
	seq_printf(m, "shadow_cr3_writes %llu\n", st.cr3_writes);
	seq_printf(m, "shadow_code_protects %llu\n", st.code_protects);
	seq_printf(m, "shadow_code_write_faults %llu\n", st.code_write_faults);
	seq_printf(m, "shadow_tlb_flushes %llu\n", flushes);
	seq_printf(m, "shadow_tables %lu\n", tables);
	seq_printf(m, "shadow_pinned_pages %lu\n", pinned);
}
