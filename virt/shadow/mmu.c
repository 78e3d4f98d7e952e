// SPDX-License-Identifier: GPL-2.0
/*
 * hyvm shadow MMU core: shadow pages, the fault handler, roots.
 *
 * Shadow tables are always in the host's long-mode format (4 levels, or 5
 * for an LA57 guest) and map 4 KiB pages only.  A shadow page is keyed by
 * the guest frame it shadows and a role (hyvm_sp_role); 32-bit guest
 * tables, which have 1024 entries, are shadowed in quadrants; the upper
 * levels that PAE and 32-bit guests lack are synthetic pages keyed by CR3.
 * Guest large pages are shadowed by "direct" pages keyed by the large
 * page's first frame.
 *
 * Coherence: every guest table that has a shadow page is write-protected
 * in every shadow leaf that maps it (hyvm_shadow_traced_write() sees every
 * change), so shadow pages are never stale and a guest TLB flush has
 * nothing to drop.  Frames bt translated code from are write-protected
 * for a second, independent reason (code_wp.c).  A shadow leaf is
 * writable only once the guest's dirty flag is set, and exists only once
 * its accessed flags are: the guest walk of the hidden fault sets them,
 * exactly when hardware would.
 *
 * Views (bt): in the kernel view the guest's supervisor code runs at real CPL3
 * (bt), so every entry is user-accessible, writability follows the
 * supervisor rules of the role (CR0.WP, SMAP, keys) and nothing is
 * executable (kernel code runs translated; its fetches are emulated).  In
 * the user view only guest-user pages are ever mapped, with the guest's
 * NX and protection key (the CPU checks PKRU itself there).
 *
 * The hw view (vmx/svm without EPT/NPT) runs the guest at its own CPL with
 * its CR4.SMEP/SMAP/PKE, EFLAGS.AC and PKRU on the CPU and CR0.WP forced
 * on: leaves carry the guest's U, W, NX and key; see hw_wp0_store().
 */
#include "shadow.h"

#define SPTE_ADDR	GENMASK_ULL(51, 12)
#define SPTE_TABLE	(HYVM_PTE_P | HYVM_PTE_W | HYVM_PTE_U | HYVM_PTE_A)

static void lru_init(struct hyvm_list *l)
{
	l->prev = l;
	l->next = l;
}

static void lru_del(struct hyvm_list *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	lru_init(e);
}

static void lru_add_front(struct hyvm_list *head, struct hyvm_list *e)
{
	e->next = head->next;
	e->prev = head;
	head->next->prev = e;
	head->next = e;
}

static struct hyvm_sp *lru_sp(struct hyvm_list *e)
{
	return (struct hyvm_sp *)((char *)e - offsetof(struct hyvm_sp, lru));
}

static bool role_eq(const struct hyvm_sp_role *a, const struct hyvm_sp_role *b)
{
	return a->level == b->level && a->kind == b->kind &&
	       a->quadrant == b->quadrant && a->access == b->access &&
	       a->view == b->view && a->direct == b->direct &&
	       a->synthetic == b->synthetic && a->wp == b->wp &&
	       a->smap == b->smap && a->smep == b->smep && a->pke == b->pke && a->nxe == b->nxe &&
	       a->pse == b->pse && a->pkey == b->pkey &&
	       a->dirty == b->dirty && a->pkru == b->pkru;
}

static bool sp_is_table(const struct hyvm_sp *sp)
{
	return !sp->role.direct && !sp->role.synthetic;
}

static struct hyvm_sp **sp_children(struct hyvm_sp *sp)
{
	return sp->aux;
}

static u64 *sp_gfns(struct hyvm_sp *sp)
{
	return sp->aux;
}

int hyvm_shadow_vm_init(struct hyvm_shadow_vm *vm,
			const struct hyvm_shadow_host_ops *host,
			const struct hyvm_gmem_ops *mem, u64 max_pages)
{
	memset(vm, 0, sizeof(*vm));
	vm->host = *host;
	vm->mem = *mem;
	vm->max_pages = max_pages;
	vm->flood_threshold = 4;
	lru_init(&vm->lru);
	return 0;
}

static struct hyvm_sp *sp_lookup(struct hyvm_shadow_vm *vm, u64 gfn,
				 const struct hyvm_sp_role *role)
{
	struct hyvm_sp *sp;

	for (sp = vm->hash[hyvm_shadow_hash(gfn)]; sp; sp = sp->hnext)
		if (sp->gfn == gfn && role_eq(&sp->role, role))
			return sp;
	return NULL;
}

/* Is @sp a root that carries the monitor's fixed entries (bt)? */
static bool sp_has_fixed(const struct hyvm_shadow_vm *vm,
			 const struct hyvm_sp *sp)
{
	return vm->fixed_n && sp->role.level == 4 &&
	       sp->role.kind == HYVM_PAGING_4LVL &&
	       sp->role.view != HYVM_VIEW_HW && sp_is_table(sp);
}

static bool spte_fixed(const struct hyvm_shadow_vm *vm,
		       const struct hyvm_sp *sp, u32 idx)
{
	return sp_has_fixed(vm, sp) && idx - vm->fixed_first < vm->fixed_n;
}

static void sp_install_fixed(struct hyvm_shadow_vm *vm, struct hyvm_sp *sp)
{
	u32 i;

	if (sp_has_fixed(vm, sp))
		for (i = 0; i < vm->fixed_n; i++)
			sp->spt[vm->fixed_first + i] =
				sp->role.view == HYVM_VIEW_USER &&
				(vm->fixed_kernel_only & BIT(i)) ? 0 : vm->fixed[i];
}

static void install_fixed_all(struct hyvm_shadow_vm *vm)
{
	u32 i;

	for (i = 0; i < (1u << HYVM_SHADOW_HASH_BITS); i++) {
		struct hyvm_sp *sp;

		for (sp = vm->hash[i]; sp; sp = sp->hnext)
			sp_install_fixed(vm, sp);
	}
}

/**
 * hyvm_shadow_set_fixed - top-level entries the monitor owns (bt)
 * @vm: the VM, before its first root
 * @first: first top-level slot
 * @n: number of slots, at most HYVM_SHADOW_FIXED_MAX
 * @sptes: the entries, copied as they are into every 4-level root of the
 *	kernel and user views
 *
 * The core never changes or drops these entries.  A guest mapping inside
 * their range cannot be shadowed: the fault handler returns
 * %HYVM_SHADOW_FIXED for it.
 *
 * Return: 0, or -EINVAL for a range outside the table.
 */
int hyvm_shadow_set_fixed(struct hyvm_shadow_vm *vm, u32 first, u32 n,
			  const u64 *sptes)
{
	u32 i;

	if (n > HYVM_SHADOW_FIXED_MAX || first >= 512 || n > 512 - first)
		return -EINVAL;
	vm->fixed_first = first;
	vm->fixed_n = n;
	vm->fixed_kernel_only = 0;
	for (i = 0; i < n; i++)
		vm->fixed[i] = sptes[i];
	install_fixed_all(vm);
	return 0;
}

/**
 * hyvm_shadow_set_fixed_kernel - a fixed entry for kernel-view roots only
 * @vm: the VM, after hyvm_shadow_set_fixed()
 * @slot: a top-level slot inside the fixed range
 * @spte: the entry; user-view roots hold 0 there
 *
 * bt maps what translated code (guest kernel code run at real CPL3) must
 * reach with user permissions here: guest user code, which runs on the
 * user view, must not reach it.
 *
 * Return: 0, or -EINVAL for a slot outside the fixed range.
 */
int hyvm_shadow_set_fixed_kernel(struct hyvm_shadow_vm *vm, u32 slot,
				 u64 spte)
{
	u32 i = slot - vm->fixed_first;

	if (i >= vm->fixed_n)
		return -EINVAL;
	vm->fixed[i] = spte;
	vm->fixed_kernel_only |= BIT(i);
	install_fixed_all(vm);
	return 0;
}

/* Drop one shadow entry, keeping the rmap and parent lists exact. */
static void drop_spte(struct hyvm_shadow_vm *vm, struct hyvm_sp *sp, u32 idx)
{
	if (!(sp->spt[idx] & HYVM_PTE_P) || spte_fixed(vm, sp, idx))
		return;
	if (sp->role.level == 1) {
		hyvm_rmap_del(vm, sp_gfns(sp)[idx], sp, idx);
	} else {
		struct hyvm_sp *child = sp_children(sp)[idx];

		hyvm_ref_del(vm, &child->parents, sp, idx);
		sp_children(sp)[idx] = NULL;
	}
	sp->spt[idx] = 0;
	vm->stats.zaps++;
	vm->tlb_dirty = true;
}

static void sp_unlink_parents(struct hyvm_shadow_vm *vm, struct hyvm_sp *sp)
{
	u32 i;

	for (i = 0; i < sp->parents.n; i++) {
		struct hyvm_sp *p = sp->parents.v[i].sp;
		u32 idx = sp->parents.v[i].idx;

		p->spt[idx] = 0;
		sp_children(p)[idx] = NULL;
		vm->stats.zaps++;
		vm->tlb_dirty = true;
	}
	hyvm_ref_free(vm, &sp->parents);
}

static void sp_free(struct hyvm_shadow_vm *vm, struct hyvm_sp *sp)
{
	struct hyvm_sp **pp;

	if (sp->hashed) {
		for (pp = &vm->hash[hyvm_shadow_hash(sp->gfn)]; *pp;
		     pp = &(*pp)->hnext) {
			if (*pp == sp) {
				*pp = sp->hnext;
				break;
			}
		}
	}
	lru_del(&sp->lru);
	vm->host.free_table(vm->host.opaque, sp->spt, sp->hpfn);
	hyvm_shadow_meta_free(vm, sp->aux);
	hyvm_shadow_meta_free(vm, sp);
	vm->stats.shadow_pages--;
	vm->stats.sp_zapped++;
}

/*
 * Empty a shadow page and detach it from its parents; free it unless it
 * is pinned (a root in use keeps its identity and is simply refilled).
 */
static void zap_sp(struct hyvm_shadow_vm *vm, struct hyvm_sp *sp, bool force)
{
	u32 i;

	for (i = 0; i < 512; i++)
		drop_spte(vm, sp, i);
	sp_unlink_parents(vm, sp);
	sp->flood = 0;
	if (!sp->pin || force)
		sp_free(vm, sp);
}

/* Free the least recently used unpinned page; false if there is none. */
static bool reclaim_one(struct hyvm_shadow_vm *vm)
{
	struct hyvm_list *e;

	for (e = vm->lru.prev; e != &vm->lru; e = e->prev) {
		struct hyvm_sp *sp = lru_sp(e);

		if (!sp->pin) {
			zap_sp(vm, sp, false);
			vm->stats.reclaims++;
			return true;
		}
	}
	return false;
}

/*
 * Clear W in every shadow leaf mapping @gfn: it is now a traced table or
 * holds translated code.
 */
void hyvm_shadow_wrprot_gfn(struct hyvm_shadow_vm *vm, u64 gfn)
{
	struct hyvm_rmap_head *h = hyvm_rmap_find(vm, gfn);
	u32 i;

	if (!h)
		return;
	for (i = 0; i < h->refs.n; i++) {
		u64 *e = &h->refs.v[i].sp->spt[h->refs.v[i].idx];

		if (*e & HYVM_PTE_W)
			vm->tlb_dirty = true;
		*e &= ~(HYVM_PTE_W | HYVM_PTE_D);
	}
}

static struct hyvm_sp *sp_create(struct hyvm_shadow_vm *vm, u64 gfn,
				 const struct hyvm_sp_role *role)
{
	struct hyvm_sp *sp;
	u32 b;

	while (vm->max_pages && vm->stats.shadow_pages >= vm->max_pages)
		if (!reclaim_one(vm))
			break;	/* all pinned: exceed the cap rather than fail */

	sp = hyvm_shadow_meta_alloc(vm, sizeof(*sp));
	if (!sp)
		return NULL;
	sp->aux = hyvm_shadow_meta_alloc(vm, 512 * sizeof(u64));
	if (!sp->aux)
		goto free_sp;
	sp->spt = vm->host.alloc_table(vm->host.opaque, &sp->hpfn);
	if (!sp->spt)
		goto free_aux;
	memset(sp->spt, 0, 4096);
	sp->gfn = gfn;
	sp->role = *role;
	sp_install_fixed(vm, sp);
	b = hyvm_shadow_hash(gfn);
	sp->hnext = vm->hash[b];
	vm->hash[b] = sp;
	sp->hashed = true;
	lru_add_front(&vm->lru, &sp->lru);
	vm->stats.shadow_pages++;
	vm->stats.sp_created++;
	if (vm->stats.shadow_pages > vm->stats.shadow_pages_max)
		vm->stats.shadow_pages_max = vm->stats.shadow_pages;
	if (sp_is_table(sp))
		hyvm_shadow_wrprot_gfn(vm, gfn);
	return sp;

free_aux:
	hyvm_shadow_meta_free(vm, sp->aux);
free_sp:
	hyvm_shadow_meta_free(vm, sp);
	return NULL;
}

static struct hyvm_sp *sp_get(struct hyvm_shadow_vm *vm, u64 gfn,
			      const struct hyvm_sp_role *role)
{
	struct hyvm_sp *sp = sp_lookup(vm, gfn, role);

	if (sp) {
		lru_del(&sp->lru);
		lru_add_front(&vm->lru, &sp->lru);
		return sp;
	}
	return sp_create(vm, gfn, role);
}

/**
 * hyvm_shadow_gfn_traced - is @gfn a shadowed guest page table?
 * @vm: the VM
 * @gfn: guest frame
 *
 * Return: true if guest stores to @gfn must go through
 * hyvm_shadow_traced_write().
 */
bool hyvm_shadow_gfn_traced(struct hyvm_shadow_vm *vm, u64 gfn)
{
	struct hyvm_sp *sp;

	for (sp = vm->hash[hyvm_shadow_hash(gfn)]; sp; sp = sp->hnext)
		if (sp->gfn == gfn && sp_is_table(sp))
			return true;
	return false;
}

/* ---- roles and roots ---- */

static struct hyvm_sp_role base_role(const struct hyvm_shadow_vcpu *v,
				     enum hyvm_shadow_view view)
{
	const struct hyvm_paging_mode *m = &v->mode;
	enum hyvm_paging_kind kind = hyvm_paging_kind(m);
	struct hyvm_sp_role r;

	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.view = view;
	r.nxe = !!(m->efer & HYVM_EFER_NXE);
	r.pse = kind == HYVM_PAGING_32 && (m->cr4 & HYVM_CR4_PSE);
	r.pke = (kind == HYVM_PAGING_4LVL || kind == HYVM_PAGING_5LVL) &&
		(m->cr4 & HYVM_CR4_PKE);
	if (view == HYVM_VIEW_KERNEL) {
		r.wp = !!(m->cr0 & HYVM_CR0_WP);
		r.smap = (m->cr4 & HYVM_CR4_SMAP) && !m->ac;
		r.pkru = r.pke ? m->pkru : 0;
	} else if (view == HYVM_VIEW_HW) {
		r.wp = !!(m->cr0 & HYVM_CR0_WP);
		r.smap = !!(m->cr4 & HYVM_CR4_SMAP);
		r.smep = !!(m->cr4 & HYVM_CR4_SMEP);
	}
	r.access = HYVM_SP_ACC_ALL;
	return r;
}

static u64 root_key(const struct hyvm_shadow_vcpu *v, struct hyvm_sp_role *r)
{
	const struct hyvm_paging_mode *m = &v->mode;

	r->level = v->shadow_levels;
	switch (r->kind) {
	case HYVM_PAGING_NONE:
		r->direct = 1;
		return 0;
	case HYVM_PAGING_32:
		r->synthetic = 1;
		return (m->cr3 >> 12) & 0xfffff;
	case HYVM_PAGING_PAE:
		r->synthetic = 1;
		return (m->cr3 >> 5) & 0x7ffffff;
	default:
		return (m->cr3 & hyvm_walk_addr_mask(m, r->kind)) >> 12;
	}
}

static void unpin(struct hyvm_shadow_vm *vm, struct hyvm_sp *sp)
{
	if (sp)
		sp->pin--;
}

static void drop_cur_roots(struct hyvm_shadow_vcpu *v)
{
	int i;

	for (i = 0; i < HYVM_NR_VIEWS; i++) {
		unpin(v->vm, v->cur[i].sp);
		v->cur[i].sp = NULL;
	}
}

void hyvm_shadow_vcpu_init(struct hyvm_shadow_vcpu *v, struct hyvm_shadow_vm *vm)
{
	memset(v, 0, sizeof(*v));
	v->vm = vm;
	v->shadow_levels = 4;
}

void hyvm_shadow_vcpu_destroy(struct hyvm_shadow_vcpu *v)
{
	int i;

	drop_cur_roots(v);
	for (i = 0; i < HYVM_SHADOW_ROOT_CACHE; i++) {
		unpin(v->vm, v->cache[i].sp);
		v->cache[i].sp = NULL;
	}
}

/**
 * hyvm_shadow_set_mode - the vCPU's paging state changed
 * @v: vCPU
 * @mode: new CR0/CR3/CR4/EFER/PKRU/AC (and PDPTEs for PAE, as loaded)
 * @cpl: current privilege level (selects the view)
 *
 * Call on any change of these, including EFLAGS.AC and PKRU while SMAP or
 * keys are in force.  Roots are switched lazily by hyvm_shadow_root().
 *
 * Return: 0.
 */
int hyvm_shadow_set_mode(struct hyvm_shadow_vcpu *v,
			 const struct hyvm_paging_mode *mode, u8 cpl)
{
	v->mode = *mode;
	v->cpl = cpl;
	v->shadow_levels = hyvm_paging_kind(mode) == HYVM_PAGING_5LVL ? 5 : 4;
	drop_cur_roots(v);
	return 0;
}

/**
 * hyvm_shadow_write_cr3 - the guest wrote CR3
 * @v: vCPU
 * @cr3: the value written (bit 63 is the PCID no-flush hint)
 *
 * Shadow pages are kept coherent by write tracing, so neither a flushing
 * nor a no-flush write has anything to drop; the write selects other
 * roots (through the root cache) and, for PAE, reloads the PDPTEs.
 *
 * Return: 0, or a negative errno if the PAE PDPT is not backed.
 */
int hyvm_shadow_write_cr3(struct hyvm_shadow_vcpu *v, u64 cr3)
{
	int r = 0;

	v->vm->stats.cr3_writes++;
	if (v->mode.cr4 & HYVM_CR4_PCIDE)
		cr3 &= ~HYVM_CR3_NOFLUSH;
	v->mode.cr3 = cr3;
	if (hyvm_paging_kind(&v->mode) == HYVM_PAGING_PAE)
		r = hyvm_walk_load_pdptrs(&v->vm->mem, &v->mode);
	drop_cur_roots(v);
	return r;
}

enum hyvm_shadow_view hyvm_shadow_cur_view(const struct hyvm_shadow_vcpu *v)
{
	if (v->hw_view)
		return HYVM_VIEW_HW;
	return v->cpl == 3 ? HYVM_VIEW_USER : HYVM_VIEW_KERNEL;
}

/* Drop PAE PDPTE links that no longer match the loaded PDPTEs. */
static void pae_sync(struct hyvm_shadow_vcpu *v, struct hyvm_sp *root)
{
	struct hyvm_sp *l3 = sp_children(root)[0];
	u64 amask = hyvm_walk_addr_mask(&v->mode, HYVM_PAGING_PAE);
	int i;

	if (!l3)
		return;
	for (i = 0; i < 4; i++) {
		struct hyvm_sp *pd = sp_children(l3)[i];
		u64 e = v->mode.pdptr[i];

		if (pd && (!(e & HYVM_PTE_P) ||
			   (e & hyvm_walk_rsvd_mask(&v->mode, HYVM_PAGING_PAE,
						    3, false)) ||
			   pd->gfn != (e & amask) >> 12))
			drop_spte(v->vm, l3, i);
	}
}

/**
 * hyvm_shadow_root - the shadow root to run the guest on
 * @v: vCPU
 * @view: kernel or user view
 * @root_hpa: host-physical address of the root table
 *
 * Return: 0, -ENOMEM, or -EOPNOTSUPP for the hw view of a guest not in
 * long mode.
 */
int hyvm_shadow_root(struct hyvm_shadow_vcpu *v, enum hyvm_shadow_view view,
		     u64 *root_hpa)
{
	struct hyvm_shadow_vm *vm = v->vm;
	struct hyvm_sp_role role;
	struct hyvm_sp *sp;
	u64 key;
	int i, j;

	role = base_role(v, view);
	/* The CPU walks hw-view shadows in the guest's mode: long mode only. */
	if (view == HYVM_VIEW_HW && role.kind < HYVM_PAGING_4LVL)
		return -EOPNOTSUPP;
	key = root_key(v, &role);
	sp = v->cur[view].sp;
	if (sp && sp->gfn == key && role_eq(&sp->role, &role))
		goto out;

	unpin(vm, sp);
	v->cur[view].sp = NULL;
	for (i = 0; i < HYVM_SHADOW_ROOT_CACHE; i++) {
		sp = v->cache[i].sp;
		if (sp && sp->gfn == key && role_eq(&sp->role, &role))
			break;
	}
	if (i < HYVM_SHADOW_ROOT_CACHE) {
		vm->stats.root_cache_hits++;
		for (j = i; j > 0; j--)
			v->cache[j] = v->cache[j - 1];
	} else {
		vm->stats.root_cache_misses++;
		sp = sp_get(vm, key, &role);
		if (!sp)
			return -ENOMEM;
		sp->pin++;
		i = HYVM_SHADOW_ROOT_CACHE - 1;
		unpin(vm, v->cache[i].sp);
		for (j = i; j > 0; j--)
			v->cache[j] = v->cache[j - 1];
	}
	v->cache[0].sp = sp;
	v->cache[0].key = key;
	sp->pin++;
	v->cur[view].sp = sp;
	v->cur[view].key = key;
out:
	if (role.kind == HYVM_PAGING_PAE)
		pae_sync(v, sp);
	*root_hpa = sp->hpfn << 12;
	return 0;
}

/* ---- the fault handler ---- */

static u8 pte_access(u64 pte, bool nxe)
{
	u8 a = 0;

	if (pte & HYVM_PTE_W)
		a |= HYVM_SP_ACC_W;
	if (pte & HYVM_PTE_U)
		a |= HYVM_SP_ACC_U;
	if (!(nxe && (pte & HYVM_PTE_NX)))
		a |= HYVM_SP_ACC_X;
	return a;
}

static u8 walk_access(const struct hyvm_walk *w)
{
	return (w->eff_write ? HYVM_SP_ACC_W : 0) |
	       (w->eff_user ? HYVM_SP_ACC_U : 0) |
	       (w->eff_nx ? 0 : HYVM_SP_ACC_X);
}

/* Point @parent's entry @idx at @child (replacing what was there). */
static int link_child(struct hyvm_shadow_vm *vm, struct hyvm_sp *parent,
		      u32 idx, struct hyvm_sp *child)
{
	int r;

	if (sp_children(parent)[idx] == child &&
	    (parent->spt[idx] & HYVM_PTE_P))
		return 0;
	drop_spte(vm, parent, idx);
	r = hyvm_ref_add(vm, &child->parents, parent, idx);
	if (r)
		return r;
	sp_children(parent)[idx] = child;
	parent->spt[idx] = (child->hpfn << 12) | SPTE_TABLE;
	return 0;
}

/*
 * Which shadow page sits below entry @idx of @sp (at shadow level
 * @sp->role.level) for this walk.
 */
static void child_key(const struct hyvm_shadow_vcpu *v,
		      const struct hyvm_walk *w, const struct hyvm_sp *sp,
		      u32 idx, u64 *gfn, struct hyvm_sp_role *role)
{
	const struct hyvm_paging_mode *m = &v->mode;
	int level = sp->role.level;
	enum hyvm_paging_kind kind = sp->role.kind;
	u64 amask = hyvm_walk_addr_mask(m, kind);
	bool nxe = sp->role.nxe;
	u64 pte;

	*role = sp->role;
	role->level = level - 1;
	role->quadrant = 0;
	role->synthetic = 0;

	if (sp->role.direct) {
		/* Within a large page or unpaged memory: frames in order. */
		*gfn = sp->gfn + ((u64)idx << (9 * (level - 1)));
		return;
	}
	if (sp->role.synthetic) {
		if (level == 4) {
			/* The synthetic PML4 of PAE/32-bit: one PDPT below. */
			role->synthetic = 1;
			*gfn = sp->gfn;
			return;
		}
		/* Synthetic PDPT: guest PD (quadrant for 32-bit). */
		role->access = HYVM_SP_ACC_ALL;
		if (kind == HYVM_PAGING_32) {
			*gfn = sp->gfn;	/* the PD is CR3's frame */
			role->quadrant = idx;
		} else {
			*gfn = (m->pdptr[idx] & amask) >> 12;
		}
		return;
	}

	pte = w->pte[level];
	if (w->leaf_level == level) {
		/* Guest large page: direct pages of 4 KiB leaves. */
		u64 base = (w->gpa >> 12) & ~((1ULL << (9 * (level - 1))) - 1);

		if (kind == HYVM_PAGING_32)	/* 4M page: which 2M half */
			base = ((w->gpa >> 12) & ~1023ULL) +
			       ((w->gva >> 21) & 1) * 512;
		role->direct = 1;
		role->access = walk_access(w);
		role->dirty = !!(pte & HYVM_PTE_D);
		role->pkey = w->pkey;
		*gfn = base;
		return;
	}
	role->access = sp->role.access & pte_access(pte, nxe);
	*gfn = (pte & amask) >> 12;
	if (kind == HYVM_PAGING_32)
		role->quadrant = (w->gva >> 21) & 1;
}

/* Pin/unpin the pages of a fault path so that reclaim leaves them alone. */
static void path_unpin(struct hyvm_shadow_vm *vm, struct hyvm_sp **path, int n)
{
	while (n--)
		unpin(vm, path[n]);
}

/*
 * The hw view runs the guest at its own CPL with CR0.WP forced on.  A
 * guest with CR0.WP clear may store from supervisor mode to a read-only
 * page: a supervisor page is then simply mapped writable; a user page is
 * mapped writable but supervisor-only (NX too under SMEP, which no longer
 * sees a user page), and its next user access refills it normally.  That
 * hides SMAP and protection keys, so with either on the store is emulated.
 */
static bool hw_wp0_store(const struct hyvm_sp_role *r,
			 const struct hyvm_walk *w, u32 access, u64 *spte)
{
	if (r->wp || w->eff_write || !w->eff_user)
		return !r->wp;	/* supervisor pages: writable without WP */
	if (!(access & HYVM_ACC_WRITE) || (access & HYVM_ACC_USER) ||
	    r->smap || r->pke)
		return false;
	*spte &= ~HYVM_PTE_U;
	if (r->smep)
		*spte |= HYVM_PTE_NX;
	return true;
}

/*
 * With CR0.WP forced on, the CPU applies PKRU.WD to supervisor stores that
 * a guest with CR0.WP clear makes to user pages; those are emulated.
 */
static bool hw_wd_blocks(const struct hyvm_sp *sp, const struct hyvm_walk *w,
			 u32 access, u32 pkru)
{
	const struct hyvm_sp_role *r = &sp->role;

	return r->view == HYVM_VIEW_HW && !r->wp && r->pke && w->eff_user &&
	       (access & HYVM_ACC_WRITE) && !(access & HYVM_ACC_USER) &&
	       ((pkru >> (2 * w->pkey)) & 2);
}

static u64 leaf_spte(const struct hyvm_sp *sp, const struct hyvm_walk *w,
		     u32 access, u64 hpfn, bool traced)
{
	const struct hyvm_sp_role *r = &sp->role;
	bool unpaged = w->kind == HYVM_PAGING_NONE;
	bool dirty = unpaged || (w->pte[w->leaf_level] & HYVM_PTE_D);
	u64 spte = (hpfn << 12) | HYVM_PTE_P | HYVM_PTE_U | HYVM_PTE_A;
	bool writable;

	if (r->view == HYVM_VIEW_USER || r->view == HYVM_VIEW_HW) {
		if (!w->eff_user) {
			if (r->view == HYVM_VIEW_USER)
				return 0;	/* never: guest-supervisor page */
			spte &= ~HYVM_PTE_U;
		}
		writable = w->eff_write;
		if (w->eff_nx)
			spte |= HYVM_PTE_NX;
		if (r->pke)
			spte |= (u64)w->pkey << HYVM_PTE_PKEY_SHIFT;
		if (r->view == HYVM_VIEW_HW && !writable)
			writable = hw_wp0_store(r, w, access, &spte);
	} else {
		u32 bits = r->pke && w->eff_user ? r->pkru >> (2 * w->pkey) : 0;

		if ((r->smap && w->eff_user && !unpaged) || (bits & 1))
			return 0;	/* no data access at all */
		writable = (w->eff_write || !r->wp) && !((bits & 2) && r->wp);
		spte |= HYVM_PTE_NX;
	}
	if (writable && dirty && !traced)
		spte |= HYVM_PTE_W | HYVM_PTE_D;
	return spte;
}

/* The fault handler proper; see hyvm_shadow_page_fault(). */
static enum hyvm_shadow_result page_fault(struct hyvm_shadow_vcpu *v,
					 u64 gva, u32 access,
					 struct hyvm_shadow_fault *out)
{
	struct hyvm_shadow_vm *vm = v->vm;
	enum hyvm_shadow_view view = hyvm_shadow_cur_view(v);
	struct hyvm_sp *path[HYVM_MAX_LEVELS];
	enum hyvm_shadow_result res;
	struct hyvm_walk w;
	struct hyvm_sp *sp;
	int npath = 0, r;
	u64 root, hpfn, gfn, spte;
	bool traced, code;
	u32 idx;

	memset(out, 0, sizeof(*out));
	access &= HYVM_ACC_WRITE | HYVM_ACC_FETCH;
	if (v->cpl == 3)
		access |= HYVM_ACC_USER;

	switch (hyvm_walk(&vm->mem, &v->mode, gva, access, &w)) {
	case HYVM_WALK_PF:
		vm->stats.true_faults++;
		out->error_code = w.error_code;
		out->cr2 = w.gva;
		return HYVM_SHADOW_GUEST_PF;
	case HYVM_WALK_GP:
		vm->stats.true_faults++;
		return HYVM_SHADOW_GUEST_GP;
	case HYVM_WALK_MEMERR:
		out->err = -EFAULT;
		return HYVM_SHADOW_ERROR;
	case HYVM_WALK_OK:
		break;
	}
	out->gpa = w.gpa;
	gva = w.gva;

	if (vm->fixed_n && view != HYVM_VIEW_HW &&
	    hyvm_paging_kind(&v->mode) == HYVM_PAGING_4LVL &&
	    ((gva >> 39) & 511) - vm->fixed_first < vm->fixed_n)
		return HYVM_SHADOW_FIXED;	/* the monitor lives there */

	if (view == HYVM_VIEW_KERNEL && (access & HYVM_ACC_FETCH)) {
		/* Guest kernel code is never run in place: translate it. */
		vm->stats.emulations++;
		return HYVM_SHADOW_EMULATE;
	}

	r = hyvm_shadow_root(v, view, &root);
	if (r)
		goto err;
	sp = v->cur[view].sp;
	sp->pin++;
	path[npath++] = sp;

	while (sp->role.level > 1) {
		struct hyvm_sp_role role;
		struct hyvm_sp *child;

		idx = (gva >> (12 + 9 * (sp->role.level - 1))) & 511;
		child_key(v, &w, sp, idx, &gfn, &role);
		child = sp_children(sp)[idx];
		if (!child || child->gfn != gfn || !role_eq(&child->role, &role) ||
		    !(sp->spt[idx] & HYVM_PTE_P)) {
			child = sp_get(vm, gfn, &role);
			if (!child) {
				r = -ENOMEM;
				goto err_path;
			}
			r = link_child(vm, sp, idx, child);
			if (r)
				goto err_path;
		} else {
			lru_del(&child->lru);
			lru_add_front(&vm->lru, &child->lru);
		}
		sp->flood = 0;
		child->pin++;
		path[npath++] = child;
		sp = child;
	}
	sp->flood = 0;

	idx = (gva >> 12) & 511;
	gfn = w.gpa >> 12;
	if (vm->host.gfn_to_hpfn(vm->host.opaque, gfn, &hpfn)) {
		drop_spte(vm, sp, idx);
		vm->stats.mmio_faults++;
		res = HYVM_SHADOW_MMIO;
		goto out;
	}
	traced = hyvm_shadow_gfn_traced(vm, gfn);
	code = hyvm_shadow_code_protected(vm, gfn);
	spte = leaf_spte(sp, &w, access, hpfn, traced || code);
	if (!(sp->spt[idx] & HYVM_PTE_P) || sp_gfns(sp)[idx] != gfn) {
		drop_spte(vm, sp, idx);
		if (spte) {
			r = hyvm_rmap_add(vm, gfn, sp, idx);
			if (r)
				goto err_path;
			sp_gfns(sp)[idx] = gfn;
		}
	} else if (!spte) {
		drop_spte(vm, sp, idx);
	} else if (((sp->spt[idx] & (HYVM_PTE_W | HYVM_PTE_U)) & ~spte) ||
		   ((spte & ~sp->spt[idx]) & (HYVM_PTE_NX | HYVM_PTE_PKEY_MASK))) {
		/*
		 * Same frame, fewer rights (or another key): a TLB may hold
		 * the old ones.  More rights need no flush, since a fault
		 * drops the stale TLB entry for its address.
		 */
		vm->tlb_dirty = true;
	}
	sp->spt[idx] = spte;

	if (code && !traced && (access & HYVM_ACC_WRITE)) {
		/*
		 * The guest allows the store: report it before anything else
		 * (even a store the shadow could not map at all), so that
		 * the caller drops its translations before the frame changes.
		 */
		out->code = true;
		vm->stats.code_write_faults++;
		res = HYVM_SHADOW_CODE_WRITE;
	} else if (!spte ||
		   ((access & HYVM_ACC_WRITE) && !(spte & HYVM_PTE_W)) ||
		   ((access & HYVM_ACC_FETCH) && (spte & HYVM_PTE_NX)) ||
		   ((access & HYVM_ACC_USER) && !(spte & HYVM_PTE_U)) ||
		   hw_wd_blocks(sp, &w, access, v->mode.pkru)) {
		out->traced = traced && (access & HYVM_ACC_WRITE);
		out->code = out->traced && code;
		vm->stats.emulations++;
		res = HYVM_SHADOW_EMULATE;
	} else {
		vm->stats.hidden_faults++;
		res = HYVM_SHADOW_RETRY;
	}
out:
	path_unpin(vm, path, npath);
	return res;

err_path:
	path_unpin(vm, path, npath);
err:
	out->err = r;
	return HYVM_SHADOW_ERROR;
}

/**
 * hyvm_shadow_page_fault - handle a #PF taken on a shadow table
 * @v: vCPU (its mode and CPL are those of the faulting access)
 * @gva: faulting linear address
 * @access: HYVM_ACC_WRITE and/or HYVM_ACC_FETCH (USER is added from CPL)
 * @out: what to do next
 *
 * Walks the guest tables (setting A/D as hardware would).  If the guest
 * mapping forbids the access it is a true fault, to be reflected with the
 * guest's error code.  Otherwise it is a hidden fault: the shadow path
 * and leaf are built and the access retried, unless it still cannot be
 * performed through the shadow (a store to a traced page table, a kernel
 * fetch in the kernel view, a non-RAM frame), in which case the caller
 * emulates it.
 *
 * A store the guest allows to a code-protected frame (see
 * hyvm_shadow_protect_code()) returns %HYVM_SHADOW_CODE_WRITE with
 * @out->gpa set, leaving the frame read-only: the caller invalidates what
 * it translated from the frame, calls hyvm_shadow_unprotect_code() and
 * retries, which is then handled as any other fault.  If the frame is
 * also a traced page table, the page-table outcome wins:
 * %HYVM_SHADOW_EMULATE with @out->traced, and @out->code set to say that
 * the emulated store also changes translated code.
 *
 * Return: the action.
 */
enum hyvm_shadow_result hyvm_shadow_page_fault(struct hyvm_shadow_vcpu *v,
					       u64 gva, u32 access,
					       struct hyvm_shadow_fault *out)
{
	const struct hyvm_shadow_host_ops *host = &v->vm->host;
	enum hyvm_shadow_result res = page_fault(v, gva, access, out);

	if (host->trace_fault)
		host->trace_fault(host->opaque, gva, access, res, out);
	return res;
}

/**
 * hyvm_shadow_invlpg - the guest invalidated the TLB entry for @gva
 * @v: vCPU
 * @gva: linear address
 *
 * Nothing is stale (see the coherence note at the top), but dropping the
 * leaves is cheap and lets the next access revalidate against the guest.
 */
void hyvm_shadow_invlpg(struct hyvm_shadow_vcpu *v, u64 gva)
{
	int i;

	v->vm->stats.invlpgs++;
	if (hyvm_paging_kind(&v->mode) <= HYVM_PAGING_PAE)
		gva &= 0xffffffffULL;
	/*
	 * The current roots and every cached one: over-invalidating another
	 * CR3's shadow is harmless.
	 */
	for (i = 0; i < HYVM_SHADOW_ROOT_CACHE + HYVM_NR_VIEWS; i++) {
		struct hyvm_sp *sp = i < HYVM_SHADOW_ROOT_CACHE ? v->cache[i].sp :
				     v->cur[i - HYVM_SHADOW_ROOT_CACHE].sp;

		while (sp && sp->role.level > 1) {
			u32 idx = (gva >> (12 + 9 * (sp->role.level - 1))) & 511;

			sp = (sp->spt[idx] & HYVM_PTE_P) ?
			     sp_children(sp)[idx] : NULL;
		}
		if (sp)
			drop_spte(v->vm, sp, (gva >> 12) & 511);
	}
}

/* Shadow entries of @sp derived from guest entry @j of its table. */
static void zap_guest_entry(struct hyvm_shadow_vm *vm, struct hyvm_sp *sp,
			    u32 j)
{
	const struct hyvm_sp_role *r = &sp->role;

	if (r->kind != HYVM_PAGING_32) {
		drop_spte(vm, sp, j);
	} else if (r->level == 1) {
		if (j / 512 == r->quadrant)
			drop_spte(vm, sp, j % 512);
	} else if (j / 256 == r->quadrant) {
		drop_spte(vm, sp, 2 * (j % 256));
		drop_spte(vm, sp, 2 * (j % 256) + 1);
	}
}

/**
 * hyvm_shadow_traced_write - apply an emulated store to a traced page
 * @vm: the VM
 * @gpa: guest physical address of the store
 * @value: the value stored (little-endian, low @size bytes)
 * @size: 1 to 8 bytes, not crossing a page
 *
 * Called after the emulator has decoded the store that faulted with
 * hyvm_shadow_fault.traced set.  Writes guest memory and zaps the shadow
 * entries the store may change; a page written this way over and over
 * without being used for translation in between is data, not a page
 * table, and is unshadowed (write flooding).
 *
 * Return: 0, -EINVAL for a bad size, or the memory callback's error.
 */
int hyvm_shadow_traced_write(struct hyvm_shadow_vm *vm, u64 gpa, u64 value,
			     unsigned int size)
{
	u64 gfn = gpa >> 12, zaps = vm->stats.zaps;
	u32 off = gpa & 4095;
	struct hyvm_sp *sp, *next;
	int r;

	if (!size || size > 8 || off + size > 4096)
		return -EINVAL;
	vm->stats.traced_writes++;
	r = vm->mem.write(vm->mem.opaque, gpa, &value, size);
	if (r)
		return r;

	for (sp = vm->hash[hyvm_shadow_hash(gfn)]; sp; sp = next) {
		u32 es, j;

		next = sp->hnext;
		if (sp->gfn != gfn || !sp_is_table(sp))
			continue;
		es = sp->role.kind == HYVM_PAGING_32 ? 4 : 8;
		for (j = off / es; j <= (off + size - 1) / es; j++)
			zap_guest_entry(vm, sp, j);
		if (++sp->flood >= vm->flood_threshold && !sp->pin) {
			vm->stats.unshadows++;
			zap_sp(vm, sp, false);
		}
	}
	if (vm->host.trace_write)
		vm->host.trace_write(vm->host.opaque, gpa, value, size,
				     vm->stats.zaps - zaps);
	return 0;
}

/**
 * hyvm_shadow_zap_gfn - remove every shadow mapping of guest frame @gfn
 * @vm: the VM
 * @gfn: guest frame
 *
 * For the host mm glue: call before the host frame behind @gfn may be
 * unmapped, migrated or freed.
 */
void hyvm_shadow_zap_gfn(struct hyvm_shadow_vm *vm, u64 gfn)
{
	struct hyvm_rmap_head *h;

	while ((h = hyvm_rmap_find(vm, gfn)) && h->refs.n)
		drop_spte(vm, h->refs.v[0].sp, h->refs.v[0].idx);
}

/**
 * hyvm_shadow_zap_all - drop every shadow page not in use as a root
 * @vm: the VM
 */
void hyvm_shadow_zap_all(struct hyvm_shadow_vm *vm)
{
	struct hyvm_list *e, *prev;

	for (e = vm->lru.prev; e != &vm->lru; e = prev) {
		prev = e->prev;
		zap_sp(vm, lru_sp(e), false);
	}
}

/**
 * hyvm_shadow_vm_destroy - free every shadow page and all metadata
 * @vm: the VM; its vCPUs must have been destroyed first
 */
void hyvm_shadow_vm_destroy(struct hyvm_shadow_vm *vm)
{
	while (vm->lru.next != &vm->lru)
		zap_sp(vm, lru_sp(vm->lru.next), true);
	hyvm_code_free_all(vm);
	WARN_ON_ONCE(vm->stats.shadow_pages || vm->stats.meta_objects);
}
