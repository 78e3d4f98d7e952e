// SPDX-License-Identifier: GPL-2.0
/*
 * Shadow MMU tests.
 *
 * The model-based test runs two copies of one random guest: the model is
 * guest memory translated by the walker alone; the system is guest memory
 * run through the shadow MMU, where each access is translated by walking
 * the *shadow* tables as the CPU would (at CPL3, in the bt engine's
 * kernel or user view) and by the fault handler on a miss.  Both must
 * give the same translation or fault, the same error code, and leave the
 * same accessed/dirty flags in guest memory, across random page-table
 * edits (through traced writes when the page is traced), INVLPG, CR3
 * switches and mode changes.  HYVM_SEED=n replays one seed; HYVM_LONG=1
 * runs longer.
 */
#include "test_shadow_fake.h"
#include "shadow/shadow.h"

#define GUEST_PAGES	48	/* frames 48..63 are referenced but not RAM */
#define HPFN_DATA	0x10000ULL	/* host frame of guest frame 0 */
#define HPFN_TABLE	0x80000ULL	/* first host frame of shadow tables */
#define MAX_TABLES	8192

/* ---- fake host: shadow-table allocator and gfn -> host frame ---- */

struct fake_host {
	void *tables[MAX_TABLES];
	u64 live, allocs;
	u64 backed_pages;
};

static int host_gfn_to_hpfn(void *o, u64 gfn, u64 *hpfn)
{
	struct fake_host *h = o;

	if (gfn >= h->backed_pages)
		return -EFAULT;
	*hpfn = HPFN_DATA + gfn;
	return 0;
}

static void *host_alloc(void *o, u64 *hpfn)
{
	struct fake_host *h = o;
	u64 i;

	for (i = 0; i < MAX_TABLES; i++) {
		if (!h->tables[i]) {
			h->tables[i] = aligned_alloc(4096, 4096);
			memset(h->tables[i], 0xcc, 4096); /* core must clear */
			*hpfn = HPFN_TABLE + i;
			h->live++;
			h->allocs++;
			return h->tables[i];
		}
	}
	return NULL;
}

static void host_free(void *o, void *table, u64 hpfn)
{
	struct fake_host *h = o;

	assert_true(hpfn >= HPFN_TABLE && hpfn < HPFN_TABLE + MAX_TABLES);
	assert_ptr_equal(h->tables[hpfn - HPFN_TABLE], table);
	free(table);
	h->tables[hpfn - HPFN_TABLE] = NULL;
	h->live--;
}

/* The CPU reading shadow tables: host memory = the shadow tables. */
static int hw_read(void *o, u64 hpa, void *buf, unsigned int len)
{
	struct fake_host *h = o;
	u64 hpfn = hpa >> 12;

	if (hpfn < HPFN_TABLE || hpfn >= HPFN_TABLE + MAX_TABLES ||
	    !h->tables[hpfn - HPFN_TABLE])
		return -EFAULT;
	memcpy(buf, (u8 *)h->tables[hpfn - HPFN_TABLE] + (hpa & 4095), len);
	return 0;
}

static int hw_cmpxchg(void *o, u64 hpa, u64 old, u64 new, unsigned int size)
{
	/* Shadow entries are built with A (and D when writable) set. */
	fail_msg("CPU had to set A/D in a shadow entry at %#llx: %#llx -> %#llx",
		 (unsigned long long)hpa, (unsigned long long)old,
		 (unsigned long long)new);
	return -EFAULT;
}

/* ---- the model test ---- */

struct world {
	u64 seed, prng;
	u8 *ref_bytes, *sys_bytes;
	struct fake_mem ref, sys;
	struct hyvm_gmem_ops ref_ops, sys_ops;
	struct fake_host host;
	struct hyvm_shadow_vm *vm;
	struct hyvm_shadow_vcpu vcpu;		/* the running vCPU ... */
	/* ... and, in two-vCPU worlds, the other one, swapped in and out */
	struct hyvm_shadow_vcpu other;
	struct hyvm_paging_mode other_mode;
	u8 other_cpl;
	bool two;
	struct hyvm_paging_mode mode;	/* the model's */
	enum hyvm_paging_kind kind;
	u8 cpl;
	u64 accesses, faults, hidden_seen, edits;
	unsigned int p_present, rsvd_permille;
	u64 cr3s[3];
	/* every shadow entry a TLB may hold since the last flush */
	u64 *tlb[MAX_TABLES];
	u64 tlb_flushes;
	bool tlb_model;
	/* the frames the system was told are code-protected */
	bool code_wp[64];
};

static u64 outcomes[4], echist[64], subset_checked, hw_view_accesses;
static u64 code_retries;

static const char * const kind_name[] = { "none", "32", "pae", "4lvl", "5lvl" };

#define CHECK(w, cond, ...) do {					\
	if (!(cond)) {							\
		fprintf(stderr, "seed %llu (kind %s): ",		\
			(unsigned long long)(w)->seed,			\
			kind_name[(w)->kind]);				\
		fprintf(stderr, __VA_ARGS__);				\
		fprintf(stderr, "\n");					\
		fail_msg("mismatch: rerun with HYVM_SEED=%llu",		\
			 (unsigned long long)(w)->seed);		\
	}								\
} while (0)

static u64 rand_pte(struct world *w)
{
	u64 *s = &w->prng;
	u64 r = prng_next(s);
	u64 pte = (prng_below(s, 100) < 92 ? prng_below(s, GUEST_PAGES) :
		   prng_below(s, 64)) << 12;
	bool lm = w->kind == HYVM_PAGING_4LVL || w->kind == HYVM_PAGING_5LVL;

	if (prng_below(s, 100) < w->p_present)
		pte |= HYVM_PTE_P;
	if (prng_below(s, 100) < 80)
		pte |= HYVM_PTE_W;
	if (prng_below(s, 100) < 85)
		pte |= HYVM_PTE_U;
	pte |= r & (HYVM_PTE_PWT | HYVM_PTE_PCD | HYVM_PTE_A | HYVM_PTE_D);
	if (prng_below(s, 100) < 15) {
		pte |= HYVM_PTE_PS;
		/* keep large pages mostly valid: clear low address bits */
		if (prng_below(s, 8))
			pte &= ~GENMASK_ULL(29, 13);
	}
	if (prng_below(s, 100) < 20 &&
	    ((w->mode.efer & HYVM_EFER_NXE) || !prng_below(s, 8)))
		pte |= HYVM_PTE_NX;
	if (lm && prng_below(s, 100) < 50)
		pte |= (prng_below(s, 4)) << HYVM_PTE_PKEY_SHIFT;
	if (prng_below(s, 1000) < w->rsvd_permille)
		pte |= BIT_ULL(36 + prng_below(s, 16));	/* maybe reserved */
	if (w->kind == HYVM_PAGING_32)
		pte &= 0xffffffffULL;
	return pte;
}

static unsigned int entry_size(struct world *w)
{
	return w->kind == HYVM_PAGING_32 ? 4 : 8;
}

static void fill_memory(struct world *w)
{
	unsigned int es = entry_size(w);
	u64 off;

	for (off = 0; off < GUEST_PAGES * 4096; off += es)
		fake_set(&w->ref, off, rand_pte(w), es);
	memcpy(w->sys_bytes, w->ref_bytes, GUEST_PAGES * 4096);
}

static u64 rand_gva(struct world *w)
{
	static const unsigned int hot64[] = { 0, 1, 2, 511 };
	static const unsigned int pd32[] = { 0, 1, 256, 513, 770, 1023 };
	static const unsigned int pt32[] = { 0, 1, 511, 512, 513, 1023 };
	u64 *s = &w->prng;
	u64 va = prng_below(s, 4096);
	int lvl;

	switch (w->kind) {
	case HYVM_PAGING_NONE:
		return prng_below(s, 64 * 4096);
	case HYVM_PAGING_32:
		return va | (u64)pt32[prng_below(s, 6)] << 12 |
		       (u64)pd32[prng_below(s, 6)] << 22;
	case HYVM_PAGING_PAE:
		va |= (u64)hot64[prng_below(s, 4)] << 12;
		va |= (u64)hot64[prng_below(s, 4)] << 21;
		va |= prng_below(s, 4) << 30;
		if (prng_below(s, 8) == 0)
			va |= 0xffffffff00000000ULL; /* ignored above bit 31 */
		return va;
	default:
		for (lvl = 1; lvl <= (w->kind == HYVM_PAGING_5LVL ? 5 : 4); lvl++)
			va |= (u64)hot64[prng_below(s, 4)] << (12 + 9 * (lvl - 1));
		if (w->kind == HYVM_PAGING_5LVL && (va & BIT_ULL(56)))
			va |= GENMASK_ULL(63, 57);
		if (w->kind == HYVM_PAGING_4LVL && (va & BIT_ULL(47)))
			va |= GENMASK_ULL(63, 48);
		if (prng_below(s, 64) == 0)
			va ^= BIT_ULL(60);		/* non-canonical */
		return va;
	}
}

static void rand_mode_bits(struct world *w)
{
	u64 *s = &w->prng;
	struct hyvm_paging_mode *m = &w->mode;
	bool lm = w->kind == HYVM_PAGING_4LVL || w->kind == HYVM_PAGING_5LVL;

	m->cr0 = HYVM_CR0_PE | (w->kind ? HYVM_CR0_PG : 0) |
		 (prng_below(s, 2) ? HYVM_CR0_WP : 0);
	m->cr4 = (w->kind >= HYVM_PAGING_PAE ? HYVM_CR4_PAE : 0) |
		 (w->kind == HYVM_PAGING_5LVL ? HYVM_CR4_LA57 : 0) |
		 (prng_below(s, 2) ? HYVM_CR4_PSE : 0) |
		 (prng_below(s, 2) ? HYVM_CR4_SMEP : 0) |
		 (prng_below(s, 2) ? HYVM_CR4_SMAP : 0) |
		 (prng_below(s, 2) ? HYVM_CR4_PKE : 0) |
		 (lm && prng_below(s, 2) ? HYVM_CR4_PCIDE : 0);
	m->efer = (lm ? HYVM_EFER_LME | HYVM_EFER_LMA : 0) |
		  (prng_below(s, 4) ? HYVM_EFER_NXE : 0);
	m->ac = prng_below(s, 2);
	m->pkru = prng_below(s, 2) ? (u32)(prng_next(s) & prng_next(s)) : 0;
}

static void sys_set_mode(struct world *w)
{
	assert_int_equal(hyvm_shadow_set_mode(&w->vcpu, &w->mode, w->cpl), 0);
}

static void guest_store(struct world *w, u64 gpa, u64 val, unsigned int size)
{
	fake_set(&w->ref, gpa, val, size);
	if (hyvm_shadow_gfn_traced(w->vm, gpa >> 12))
		assert_int_equal(hyvm_shadow_traced_write(w->vm, gpa, val, size), 0);
	else
		fake_set(&w->sys, gpa, val, size);
}

static void load_cr3(struct world *w, u64 cr3)
{
	bool pcid = w->mode.cr4 & HYVM_CR4_PCIDE;
	int i;

	/* A PAE guest mostly loads valid PDPTEs (else MOV CR3 would #GP). */
	for (i = 0; i < 4 && w->kind == HYVM_PAGING_PAE &&
	     prng_below(&w->prng, 8); i++) {
		u64 a = (cr3 & GENMASK_ULL(31, 5)) + i * 8;

		guest_store(w, a, fake_get(&w->ref, a, 8) &
			    ~(GENMASK_ULL(63, w->mode.maxphyaddr) |
			      GENMASK_ULL(8, 5) | GENMASK_ULL(2, 1)), 8);
	}

	w->mode.cr3 = cr3;
	if (w->kind == HYVM_PAGING_PAE)
		hyvm_walk_load_pdptrs(&w->ref_ops, &w->mode);
	/* The system gets the raw value, with the no-flush hint. */
	assert_int_equal(hyvm_shadow_write_cr3(&w->vcpu, cr3 |
			 (pcid && prng_below(&w->prng, 2) ? HYVM_CR3_NOFLUSH : 0)),
			 0);
	CHECK(w, !memcmp(w->vcpu.mode.pdptr, w->mode.pdptr, 32), "pdptrs");
}

static u64 rand_cr3(struct world *w)
{
	u64 gfn = prng_below(&w->prng, GUEST_PAGES);

	if (w->cr3s[0] && prng_below(&w->prng, 4))
		return w->cr3s[prng_below(&w->prng, 3)];

	if (w->kind == HYVM_PAGING_PAE)
		return gfn << 12 | prng_below(&w->prng, 128) << 5;
	if (w->vcpu.mode.cr4 & HYVM_CR4_PCIDE)
		return gfn << 12 | prng_below(&w->prng, 4096);
	return gfn << 12;
}

/* The CPU's privilege for an access: bt runs everything at CPL3. */
static u32 hw_user(struct world *w)
{
	return !w->vcpu.hw_view || w->cpl == 3 ? HYVM_ACC_USER : 0;
}

/* The CPU state the engine runs the guest with, on shadow root @root. */
static void hw_mode(struct world *w, enum hyvm_shadow_view view, u64 root,
		    struct hyvm_paging_mode *hm)
{
	struct hyvm_sp *rsp = w->vcpu.cur[view].sp;

	memset(hm, 0, sizeof(*hm));
	hm->cr0 = HYVM_CR0_PE | HYVM_CR0_PG | HYVM_CR0_WP;
	hm->cr4 = HYVM_CR4_PAE |
		  (w->vcpu.shadow_levels == 5 ? HYVM_CR4_LA57 : 0) |
		  (view == HYVM_VIEW_USER && rsp->role.pke ? HYVM_CR4_PKE : 0);
	hm->efer = HYVM_EFER_LME | HYVM_EFER_LMA | HYVM_EFER_NXE;
	hm->pkru = w->mode.pkru;
	if (view == HYVM_VIEW_HW) {
		/* vmx/svm: guest CR4 bits and EFLAGS.AC live on the CPU */
		hm->cr4 |= w->mode.cr4 & (HYVM_CR4_SMEP | HYVM_CR4_SMAP);
		if (rsp->role.pke)
			hm->cr4 |= HYVM_CR4_PKE;
		hm->ac = w->mode.ac;
	}
	hm->maxphyaddr = 52;
	hm->cr3 = root;
}

static const struct hyvm_gmem_ops *hw_ops(struct world *w)
{
	static struct hyvm_gmem_ops ops = {
		.read = hw_read, .cmpxchg_gpa = hw_cmpxchg,
	};

	ops.opaque = &w->host;
	return &ops;
}

/*
 * Every access the shadow of the current view allows, the guest allows,
 * to the same frame, with A (and D for stores) already set: the shadow
 * never grants more than the guest, whatever was or was not probed.
 */
static void check_leaves(struct world *w, enum hyvm_shadow_view view,
			 struct hyvm_sp *sp, u64 va, unsigned int *n)
{
	struct hyvm_paging_mode hm, gm = w->mode;
	unsigned int i, a;
	u64 root;

	for (i = 0; i < 512; i++) {
		u64 v = va | (u64)i << (12 + 9 * (sp->role.level - 1));

		if (!(sp->spt[i] & HYVM_PTE_P))
			continue;
		if (sp->role.level > 1) {
			check_leaves(w, view, ((struct hyvm_sp **)sp->aux)[i], v, n);
			continue;
		}
		if (v & BIT_ULL(w->vcpu.shadow_levels == 5 ? 56 : 47))
			v |= w->vcpu.shadow_levels == 5 ? GENMASK_ULL(63, 57) :
			     GENMASK_ULL(63, 48);
		root = w->vcpu.cur[view].sp->hpfn << 12;
		hw_mode(w, view, root, &hm);
		for (a = 0; a < 3; a++) {
			u32 acc = a == 1 ? HYVM_ACC_WRITE : a == 2 ? HYVM_ACC_FETCH : 0;
			struct hyvm_walk hw, gw;
			int lvl;

			if (hyvm_walk(hw_ops(w), &hm, v, acc | hw_user(w), &hw) !=
			    HYVM_WALK_OK)
				continue;
			(*n)++;
			if (w->cpl == 3)
				acc |= HYVM_ACC_USER;
			hyvm_walk(&w->ref_ops, &gm, v, acc | HYVM_ACC_NO_AD, &gw);
			CHECK(w, gw.status == HYVM_WALK_OK &&
			      gw.gpa >> 12 == (hw.gpa >> 12) - HPFN_DATA,
			      "view %d grants acc %#x at %#llx (guest: status %d ec %#x)",
			      view, acc, (unsigned long long)v, gw.status,
			      gw.error_code);
			for (lvl = gw.levels; lvl >= gw.leaf_level; lvl--) {
				if (gw.kind == HYVM_PAGING_PAE && lvl == 3)
					continue;
				CHECK(w, gw.pte[lvl] & HYVM_PTE_A,
				      "mapped without guest A at level %d", lvl);
			}
			if (acc & HYVM_ACC_WRITE)
				CHECK(w, gw.pte[gw.leaf_level] & HYVM_PTE_D,
				      "writable without guest D");
		}
	}
}

static void check_subset(struct world *w)
{
	unsigned int view, n = 0;
	u64 root;

	if (w->kind == HYVM_PAGING_NONE)
		return;
	for (view = 0; view < HYVM_NR_VIEWS; view++) {
		if (!w->vcpu.cur[view].sp)
			continue;
		/* roots are only current for the mode they were made for */
		assert_int_equal(hyvm_shadow_root(&w->vcpu, view, &root), 0);
		if (view != hyvm_shadow_cur_view(&w->vcpu))
			continue;
		check_leaves(w, view, w->vcpu.cur[view].sp, 0, &n);
	}
	subset_checked += n;
}

/* Translate through the shadow as the CPU would, faulting into the MMU. */
static void one_access(struct world *w)
{
	u64 gva = rand_gva(w);
	u32 r = prng_below(&w->prng, 3);
	u32 acc = r == 1 ? HYVM_ACC_WRITE : r == 2 ? HYVM_ACC_FETCH : 0;
	u32 uacc = acc | (w->cpl == 3 ? HYVM_ACC_USER : 0);
	enum hyvm_shadow_view view = hyvm_shadow_cur_view(&w->vcpu);
	struct hyvm_walk ref, hw;
	struct hyvm_paging_mode hm;
	struct hyvm_shadow_fault f;
	enum hyvm_shadow_result res;
	int status = -1, tries, lvl, code_writes = 0;
	u32 ec = 0;
	u64 gpa = 0, root;

	w->accesses++;
	hyvm_walk(&w->ref_ops, &w->mode, gva, uacc, &ref);
	outcomes[ref.status]++;
	if (ref.status == HYVM_WALK_PF)
		echist[ref.error_code & 63]++;

	for (tries = 0; tries < 3; tries++) {
		assert_int_equal(hyvm_shadow_root(&w->vcpu, view, &root), 0);
		hw_mode(w, view, root, &hm);
		if (hyvm_walk(hw_ops(w), &hm, ref.gva, acc | hw_user(w), &hw) ==
		    HYVM_WALK_OK) {
			CHECK(w, (hw.gpa >> 12) >= HPFN_DATA &&
			      (hw.gpa >> 12) < HPFN_DATA + GUEST_PAGES,
			      "shadow maps host frame %#llx",
			      (unsigned long long)hw.gpa);
			status = HYVM_WALK_OK;
			gpa = hw.gpa - (HPFN_DATA << 12);
			CHECK(w, !(acc & HYVM_ACC_WRITE) || !w->code_wp[gpa >> 12],
			      "store to code-protected gpa %#llx went through",
			      (unsigned long long)gpa);
			break;
		}
		CHECK(w, hw.status == HYVM_WALK_PF || gva != ref.gva ||
		      hw.status == HYVM_WALK_GP,
		      "shadow walk status %d", hw.status);
		res = hyvm_shadow_page_fault(&w->vcpu, gva, acc, &f);
		if (res == HYVM_SHADOW_RETRY) {
			w->hidden_seen++;
			continue;
		}
		if (res == HYVM_SHADOW_CODE_WRITE) {
			/* as bt: drop the translations, unprotect, retry */
			CHECK(w, ref.status == HYVM_WALK_OK &&
			      (acc & HYVM_ACC_WRITE) && f.gpa == ref.gpa &&
			      w->code_wp[f.gpa >> 12] &&
			      !hyvm_shadow_gfn_traced(w->vm, f.gpa >> 12) &&
			      !code_writes++,
			      "CODE_WRITE at gva %#llx acc %#x: gpa %#llx, model %#llx status %d",
			      (unsigned long long)gva, acc,
			      (unsigned long long)f.gpa,
			      (unsigned long long)ref.gpa, ref.status);
			hyvm_shadow_unprotect_code(w->vm, f.gpa >> 12);
			w->code_wp[f.gpa >> 12] = false;
			code_retries++;
			tries = -1;
			continue;
		}
		switch (res) {
		case HYVM_SHADOW_GUEST_PF:
			status = HYVM_WALK_PF;
			ec = f.error_code;
			CHECK(w, f.cr2 == ref.gva, "cr2");
			w->faults++;
			break;
		case HYVM_SHADOW_GUEST_GP:
			status = HYVM_WALK_GP;
			break;
		case HYVM_SHADOW_EMULATE:
			status = HYVM_WALK_OK;
			gpa = f.gpa;
			CHECK(w, !f.traced ||
			      hyvm_shadow_gfn_traced(w->vm, f.gpa >> 12),
			      "traced flag on an untraced frame");
			CHECK(w, f.code == (f.traced && w->code_wp[f.gpa >> 12]),
			      "code flag %d at gpa %#llx", f.code,
			      (unsigned long long)f.gpa);
			break;
		case HYVM_SHADOW_MMIO:
			status = HYVM_WALK_OK;
			gpa = f.gpa;
			CHECK(w, (gpa >> 12) >= GUEST_PAGES, "MMIO on RAM");
			break;
		default:
			status = HYVM_WALK_MEMERR;
			CHECK(w, f.err == -EFAULT, "error %d", f.err);
			break;
		}
		break;
	}
	CHECK(w, tries < 2, "hidden fault did not make gva %#llx accessible (acc %#x cpl %u hw ec %#x cr0 %#llx cr4 %#llx ac %d)",
	      (unsigned long long)gva, acc, w->cpl, hw.error_code,
	      (unsigned long long)w->mode.cr0, (unsigned long long)w->mode.cr4,
	      w->mode.ac);
	CHECK(w, status == (int)ref.status,
	      "gva %#llx acc %#x cpl %u: status %d, model %d (ec %#x)",
	      (unsigned long long)gva, acc, w->cpl, status, ref.status,
	      ref.error_code);
	if (status == HYVM_WALK_PF)
		CHECK(w, ec == ref.error_code,
		      "gva %#llx acc %#x cpl %u: error code %#x, model %#x",
		      (unsigned long long)gva, acc, w->cpl, ec, ref.error_code);
	if (status == HYVM_WALK_OK)
		CHECK(w, gpa == ref.gpa, "gva %#llx acc %#x: gpa %#llx, model %#llx",
		      (unsigned long long)gva, acc, (unsigned long long)gpa,
		      (unsigned long long)ref.gpa);
	/* the same A/D flags in the entries the model walked */
	for (lvl = 1; lvl <= HYVM_MAX_LEVELS; lvl++) {
		u64 a = ref.pte_gpa[lvl];

		if (a && a + 8 <= GUEST_PAGES * 4096)
			CHECK(w, fake_get(&w->ref, a, entry_size(w)) ==
			      fake_get(&w->sys, a, entry_size(w)),
			      "A/D of entry at gpa %#llx (level %d) differ: %#llx vs model %#llx",
			      (unsigned long long)a, lvl,
			      (unsigned long long)fake_get(&w->sys, a, entry_size(w)),
			      (unsigned long long)fake_get(&w->ref, a, entry_size(w)));
	}
}

/* A guest store to guest memory, traced if the frame is a shadowed table. */
static void one_edit(struct world *w)
{
	u64 *s = &w->prng;
	unsigned int es = entry_size(w);
	u64 gfn = prng_below(s, GUEST_PAGES), gpa, val;
	unsigned int size = es;

	if (prng_below(s, 2)) {
		/* prefer frames in use as tables */
		struct hyvm_list *e = w->vm->lru.next;
		unsigned int n = prng_below(s, 8);

		while (n-- && e != &w->vm->lru)
			e = e->next;
		if (e != &w->vm->lru) {
			struct hyvm_sp *sp = (struct hyvm_sp *)e;

			if (!sp->role.direct && !sp->role.synthetic)
				gfn = sp->gfn;
		}
	}
	gpa = gfn << 12 | (prng_below(s, 4096 / es) * es);
	if (prng_below(s, 4) == 0)
		gpa = gfn << 12 | (prng_below(s, 4) * es);	/* hot entries */
	if (w->kind == HYVM_PAGING_PAE && prng_below(s, 6) == 0)
		gpa = (w->mode.cr3 & GENMASK_ULL(31, 5)) + prng_below(s, 4) * 8;
	val = rand_pte(w);
	switch (prng_below(s, 8)) {
	case 0:		/* flip one of the interesting bits */
	case 2:
	case 3: {
		static const u64 bits[] = {
			HYVM_PTE_A, HYVM_PTE_D, HYVM_PTE_W, HYVM_PTE_U,
			HYVM_PTE_P, HYVM_PTE_NX, HYVM_PTE_PS, 1ULL << 59,
		};

		val = fake_get(&w->ref, gpa, es) ^ bits[prng_below(s, 8)];
		if (es == 4)
			val &= 0xffffffffULL;
		break;
	}
	case 1:		/* a narrower store */
		size = 1 << prng_below(s, 3);
		if (size > es)
			size = es;
		gpa += prng_below(s, es / size) * size;
		break;
	}
	w->edits++;
	guest_store(w, gpa, val, size);
}

/* Structural invariants of the shadow MMU. */
static void check_invariants(struct world *w)
{
	struct hyvm_list *e;
	u64 n = 0, g;

	for (e = w->vm->lru.next; e != &w->vm->lru; e = e->next) {
		struct hyvm_sp *sp = (struct hyvm_sp *)e;
		unsigned int i;

		n++;
		if (sp->role.level != 1)
			continue;
		for (i = 0; i < 512; i++) {
			u64 spte = sp->spt[i];
			u64 gfn = ((u64 *)sp->aux)[i];

			if (!(spte & HYVM_PTE_P))
				continue;
			CHECK(w, (spte >> 12 & 0xffffffffffULL) == HPFN_DATA + gfn,
			      "leaf frame");
			CHECK(w, !(spte & HYVM_PTE_W) ||
			      !hyvm_shadow_gfn_traced(w->vm, gfn),
			      "writable shadow leaf maps traced gfn %#llx",
			      (unsigned long long)gfn);
			CHECK(w, !(spte & HYVM_PTE_W) || !w->code_wp[gfn],
			      "writable shadow leaf maps code-protected gfn %#llx",
			      (unsigned long long)gfn);
		}
	}
	for (g = 0; g < 64; g++)
		CHECK(w, hyvm_shadow_code_protected(w->vm, g) == w->code_wp[g],
		      "code protection of gfn %llu", (unsigned long long)g);
	CHECK(w, n == w->vm->stats.shadow_pages, "page count %llu vs %llu",
	      (unsigned long long)n,
	      (unsigned long long)w->vm->stats.shadow_pages);
	CHECK(w, w->host.live == n, "host tables %llu vs pages %llu",
	      (unsigned long long)w->host.live, (unsigned long long)n);
	CHECK(w, !memcmp(w->ref_bytes, w->sys_bytes, GUEST_PAGES * 4096),
	      "guest memory differs");
}

/*
 * A TLB may cache any present shadow entry, and keeps it until the glue
 * flushes, which it does when the core sets tlb_dirty.  So between two
 * flushes no entry may disappear or lose rights (a table, its frame, W,
 * U) or gain NX or another key; more rights need no flush.  Checked after
 * every operation against a copy of all tables taken at the last flush
 * and refreshed after each operation (rights only grow in between, so the
 * copy holds the most a TLB may have cached).
 */
#define TLB_RIGHTS_LOST(old, new) \
	((((old) & (HYVM_PTE_W | HYVM_PTE_U)) & ~(new)) || \
	 (((new) & ~(old)) & (HYVM_PTE_NX | HYVM_PTE_PKEY_MASK)))

static void check_tlb(struct world *w)
{
	bool dirty = w->vm->tlb_dirty;
	unsigned int i, j;

	for (i = 0; i < MAX_TABLES; i++) {
		const u64 *t = w->host.tables[i];
		u64 *c = w->tlb[i];

		if (c && !dirty) {
			for (j = 0; j < 512; j++) {
				u64 o = c[j], n = t ? t[j] : 0;

				if (!(o & HYVM_PTE_P))
					continue;
				CHECK(w, (n & HYVM_PTE_P) &&
				      ((o ^ n) & 0x000ffffffffff000ULL) == 0 &&
				      !TLB_RIGHTS_LOST(o, n),
				      "table %u entry %u: %#llx became %#llx without a TLB flush",
				      i, j, (unsigned long long)o,
				      (unsigned long long)n);
			}
		}
		if (t) {
			if (!c)
				c = w->tlb[i] = malloc(4096);
			memcpy(c, t, 4096);
		} else if (c) {
			free(c);
			w->tlb[i] = NULL;
		}
	}
	if (dirty)
		w->tlb_flushes++;
	w->vm->tlb_dirty = false;
}

/* bt translating code from a frame, or dropping its translations */
static void code_protect_op(struct world *w)
{
	u64 gfn = prng_below(&w->prng, 64);

	if (prng_below(&w->prng, 3)) {
		assert_int_equal(hyvm_shadow_protect_code(w->vm, gfn), 0);
		w->code_wp[gfn] = true;
	} else {
		hyvm_shadow_unprotect_code(w->vm, gfn);
		w->code_wp[gfn] = false;
	}
}

static struct hyvm_shadow_stats total;

/* Run the other vCPU: the core keeps no pointer to a vCPU struct. */
static void swap_vcpu(struct world *w)
{
	struct hyvm_shadow_vcpu v = w->vcpu;
	struct hyvm_paging_mode m = w->mode;
	u8 cpl = w->cpl;

	w->vcpu = w->other;
	w->mode = w->other_mode;
	w->cpl = w->other_cpl;
	w->other = v;
	w->other_mode = m;
	w->other_cpl = cpl;
}

static void run_world(u64 seed, unsigned int ops, struct hyvm_shadow_stats *sum)
{
	static const u8 maxpa[] = { 36, 40, 46, 52 };
	static const u64 caps[] = { 0, 8, 12, 40 };
	struct hyvm_shadow_host_ops hops = {
		.gfn_to_hpfn = host_gfn_to_hpfn, .alloc_table = host_alloc,
		.free_table = host_free,
	};
	struct world *w = calloc(1, sizeof(*w));
	unsigned int i, r;

	w->seed = seed;
	w->prng = seed * 0x9e3779b97f4a7c15ULL + 1;
	w->ref_bytes = calloc(FAKE_PAGES, 4096);
	w->sys_bytes = calloc(FAKE_PAGES, 4096);
	w->ref.bytes = w->ref_bytes;
	w->sys.bytes = w->sys_bytes;
	w->ref.npages = w->sys.npages = GUEST_PAGES;
	w->ref_ops = fake_ops(&w->ref);
	w->sys_ops = fake_ops(&w->sys);
	w->host.backed_pages = GUEST_PAGES;
	hops.opaque = &w->host;
	w->vm = calloc(1, sizeof(*w->vm));

	/* unpaged 1/20, 32-bit and PAE 1/4 each, long mode the rest */
	r = prng_below(&w->prng, 20);
	w->kind = r == 0 ? HYVM_PAGING_NONE : r < 6 ? HYVM_PAGING_32 :
		  r < 11 ? HYVM_PAGING_PAE : r < 16 ? HYVM_PAGING_4LVL :
		  HYVM_PAGING_5LVL;
	w->p_present = 85 + prng_below(&w->prng, 15);
	w->rsvd_permille = prng_below(&w->prng, 30);
	rand_mode_bits(w);
	fill_memory(w);
	assert_int_equal(hyvm_shadow_vm_init(w->vm, &hops, &w->sys_ops,
					     caps[prng_below(&w->prng, 4)]), 0);
	w->vm->flood_threshold = 2 + prng_below(&w->prng, 6);
	hyvm_shadow_vcpu_init(&w->vcpu, w->vm);
	/* vmx/svm shadow paging: long-mode guests, one view */
	if (w->kind >= HYVM_PAGING_4LVL && prng_below(&w->prng, 3) == 0)
		w->vcpu.hw_view = true;
	w->mode.maxphyaddr = maxpa[prng_below(&w->prng, 4)];
	w->cpl = prng_below(&w->prng, 2) ? 3 : 0;
	sys_set_mode(w);
	for (i = 0; i < 3; i++)
		w->cr3s[i] = rand_cr3(w);
	load_cr3(w, rand_cr3(w));
	if (prng_below(&w->prng, 2)) {
		/* a second vCPU on the same VM, own CR3 and CPL */
		w->two = true;
		swap_vcpu(w);
		hyvm_shadow_vcpu_init(&w->vcpu, w->vm);
		w->vcpu.hw_view = w->other.hw_view;
		w->mode = w->other_mode;
		w->cpl = prng_below(&w->prng, 2) ? 3 : 0;
		sys_set_mode(w);
		load_cr3(w, rand_cr3(w));
	}

	/* The TLB check copies every table after every operation: 1 in 8. */
	w->tlb_model = !(seed & 7);
	if (w->tlb_model)
		check_tlb(w);
	for (i = 0; i < ops; i++) {
		r = prng_below(&w->prng, 1000);
		if (getenv("HYVM_TRACE"))
			fprintf(stderr, "op %u: %u cpl %u cr3 %#llx\n", i,
				r, w->cpl,
				(unsigned long long)w->mode.cr3);

		if (r < 680) {
			one_access(w);
		} else if (r < 700) {
			if (w->two)
				swap_vcpu(w);
		} else if (r < 862) {
			one_edit(w);
		} else if (r < 880) {
			code_protect_op(w);
		} else if (r < 910) {
			hyvm_shadow_invlpg(&w->vcpu, rand_gva(w));
		} else if (r < 950) {
			load_cr3(w, rand_cr3(w));
		} else if (r < 975) {
			w->cpl = 3 - w->cpl;
			sys_set_mode(w);
		} else if (r < 985) {
			w->mode.ac = !w->mode.ac;
			sys_set_mode(w);
		} else if (r < 995) {
			u64 cr3 = w->mode.cr3;
			u64 pd[4];

			memcpy(pd, w->mode.pdptr, sizeof(pd));
			rand_mode_bits(w);
			w->mode.cr3 = cr3;
			memcpy(w->mode.pdptr, pd, sizeof(pd));
			sys_set_mode(w);
		} else if (r < 997) {
			hyvm_shadow_zap_gfn(w->vm, prng_below(&w->prng, GUEST_PAGES));
		} else {
			hyvm_shadow_zap_all(w->vm);
		}
		if (w->tlb_model)
			check_tlb(w);
		if ((i & 63) == 63) {
			check_invariants(w);
			check_subset(w);
		}
	}
	check_invariants(w);

	sum->hidden_faults += w->vm->stats.hidden_faults;
	sum->true_faults += w->vm->stats.true_faults;
	sum->traced_writes += w->vm->stats.traced_writes;
	sum->emulations += w->vm->stats.emulations;
	sum->unshadows += w->vm->stats.unshadows;
	sum->reclaims += w->vm->stats.reclaims;
	sum->root_cache_hits += w->vm->stats.root_cache_hits;
	sum->zaps += w->vm->stats.zaps;
	sum->mmio_faults += w->vm->stats.mmio_faults;
	sum->code_protects += w->vm->stats.code_protects;
	sum->code_write_faults += w->vm->stats.code_write_faults;
	sum->invlpgs += w->accesses;	/* reused: accesses */
	if (w->vcpu.hw_view)
		hw_view_accesses += w->accesses;

	hyvm_shadow_vcpu_destroy(&w->vcpu);
	if (w->two)
		hyvm_shadow_vcpu_destroy(&w->other);
	hyvm_shadow_vm_destroy(w->vm);
	CHECK(w, w->host.live == 0, "%llu shadow tables left after teardown",
	      (unsigned long long)w->host.live);
	CHECK(w, w->vm->stats.meta_objects == 0,
	      "%llu metadata objects left after teardown",
	      (unsigned long long)w->vm->stats.meta_objects);
	CHECK(w, !w->tlb_model || w->tlb_flushes || !w->vm->stats.zaps,
	      "%llu zaps and not one TLB flush",
	      (unsigned long long)w->vm->stats.zaps);
	for (i = 0; i < MAX_TABLES; i++)
		free(w->tlb[i]);
	free(w->vm);
	free(w->ref_bytes);
	free(w->sys_bytes);
	free(w);
}

static void test_model(void **state)
{
	const char *s = getenv("HYVM_SEED");
	unsigned int worlds = getenv("HYVM_LONG") ? 100000 : 4000;
	unsigned int ops = 800, i;
	u64 base = s ? strtoull(s, NULL, 0) : 1;

	memset(&total, 0, sizeof(total));
	hw_view_accesses = 0;
	code_retries = 0;
	if (s)
		worlds = 1;
	for (i = 0; i < worlds; i++)
		run_world(base + i, ops, &total);
	fprintf(stderr, "model: %u worlds, %llu accesses, %llu hidden, %llu true, %llu emulated,",
		worlds, (unsigned long long)total.invlpgs,
		(unsigned long long)total.hidden_faults,
		(unsigned long long)total.true_faults,
		(unsigned long long)total.emulations);
	fprintf(stderr, " %llu mmio, %llu traced writes, %llu unshadows, %llu reclaims, %llu root-cache hits, %llu zaps\n",
		(unsigned long long)total.mmio_faults,
		(unsigned long long)total.traced_writes,
		(unsigned long long)total.unshadows,
		(unsigned long long)total.reclaims,
		(unsigned long long)total.root_cache_hits,
		(unsigned long long)total.zaps);
	fprintf(stderr, "model: %llu code protects, %llu code-write faults, %llu retried\n",
		(unsigned long long)total.code_protects,
		(unsigned long long)total.code_write_faults,
		(unsigned long long)code_retries);
	assert_int_equal(total.code_write_faults, code_retries);
	fprintf(stderr, "model: %llu accesses in the vmx/svm view\n",
		(unsigned long long)hw_view_accesses);
	if (!s)
		assert_true(hw_view_accesses > 0);
	fprintf(stderr, "model: %llu shadow-granted accesses checked against the guest\n",
		(unsigned long long)subset_checked);
	assert_true(subset_checked > 0);
	fprintf(stderr, "model outcomes: %llu ok, %llu #PF, %llu #GP, %llu memerr\n",
		(unsigned long long)outcomes[0], (unsigned long long)outcomes[1],
		(unsigned long long)outcomes[2], (unsigned long long)outcomes[3]);
	for (i = 0; i < 64; i++)
		if (echist[i] && getenv("HYVM_DEBUG"))
			fprintf(stderr, "ec %#x: %llu\n", i, (unsigned long long)echist[i]);
	/* The random mix must reach every path it is meant to test. */
	assert_true(total.hidden_faults > 0 && total.true_faults > 0);
	/* ... and translate successfully often enough to mean something */
	assert_true(outcomes[HYVM_WALK_OK] * 5 > total.invlpgs);
	if (!s) {
		assert_true(total.traced_writes > 0 && total.unshadows > 0);
		assert_true(total.reclaims > 0 && total.root_cache_hits > 0);
		assert_true(total.mmio_faults > 0 && total.emulations > 0);
		assert_true(total.code_protects > 0 &&
			    total.code_write_faults > 0);
	}
}

/* ---- directed tests on a small hand-built 4-level guest ---- */

/*
 * Guest: PML4 at frame 1, PDPT 2, PD 3, PT 4 (PT 5 for the second
 * address space at CR3 = frame 6).  va(i) is mapped by PTE i of PT 4.
 */
#define VA(i)	(0x1000ULL * (i))
#define PWU	(HYVM_PTE_P | HYVM_PTE_W | HYVM_PTE_U)

static struct world *mini_world(u64 cap)
{
	struct hyvm_shadow_host_ops hops = {
		.gfn_to_hpfn = host_gfn_to_hpfn, .alloc_table = host_alloc,
		.free_table = host_free,
	};
	struct world *w = calloc(1, sizeof(*w));

	w->ref_bytes = calloc(FAKE_PAGES, 4096);
	w->sys_bytes = w->ref_bytes;	/* one memory: no model here */
	w->ref.bytes = w->sys.bytes = w->ref_bytes;
	w->ref.npages = w->sys.npages = GUEST_PAGES;
	w->ref_ops = fake_ops(&w->ref);
	w->sys_ops = fake_ops(&w->sys);
	w->host.backed_pages = GUEST_PAGES;
	hops.opaque = &w->host;
	w->vm = calloc(1, sizeof(*w->vm));
	w->kind = HYVM_PAGING_4LVL;
	assert_int_equal(hyvm_shadow_vm_init(w->vm, &hops, &w->sys_ops, cap), 0);
	hyvm_shadow_vcpu_init(&w->vcpu, w->vm);

	fake_set(&w->ref, 0x1000, PWU | 0x2000, 8);
	fake_set(&w->ref, 0x2000, PWU | 0x3000, 8);
	fake_set(&w->ref, 0x3000, PWU | 0x4000, 8);
	fake_set(&w->ref, 0x6000, PWU | 0x7000, 8);
	fake_set(&w->ref, 0x7000, PWU | 0x8000, 8);
	fake_set(&w->ref, 0x8000, PWU | 0x5000, 8);

	w->mode.cr0 = HYVM_CR0_PE | HYVM_CR0_PG | HYVM_CR0_WP;
	w->mode.cr4 = HYVM_CR4_PAE | HYVM_CR4_PCIDE;
	w->mode.efer = HYVM_EFER_LME | HYVM_EFER_LMA | HYVM_EFER_NXE;
	w->mode.maxphyaddr = 46;
	w->mode.cr3 = 0x1000;
	w->cpl = 0;
	sys_set_mode(w);
	assert_int_equal(hyvm_shadow_write_cr3(&w->vcpu, 0x1000), 0);
	return w;
}

static void mini_free(struct world *w)
{
	hyvm_shadow_vcpu_destroy(&w->vcpu);
	hyvm_shadow_vm_destroy(w->vm);
	assert_int_equal(w->host.live, 0);
	assert_int_equal(w->vm->stats.shadow_pages, 0);
	assert_int_equal(w->vm->stats.meta_objects, 0);
	free(w->vm);
	free(w->ref_bytes);
	free(w);
}

/* Does the CPU, on the current shadow root, allow this access? */
static bool hw_ok(struct world *w, u64 va, u32 acc, u64 *gfn)
{
	enum hyvm_shadow_view view = hyvm_shadow_cur_view(&w->vcpu);
	struct hyvm_paging_mode hm;
	struct hyvm_walk hw;
	u64 root;

	assert_int_equal(hyvm_shadow_root(&w->vcpu, view, &root), 0);
	hw_mode(w, view, root, &hm);
	if (hyvm_walk(hw_ops(w), &hm, va, acc | hw_user(w), &hw))
		return false;
	if (gfn)
		*gfn = (hw.gpa >> 12) - HPFN_DATA;
	return true;
}

static void test_hidden_and_true(void **state)
{
	struct world *w = mini_world(0);
	struct hyvm_shadow_fault f;
	u64 gfn;

	fake_set(&w->ref, 0x4000 + 8, PWU | 0x9000, 8);		/* va 1 */
	fake_set(&w->ref, 0x4000 + 16, HYVM_PTE_P | 0xa000, 8);	/* va 2: sup ro */

	assert_false(hw_ok(w, VA(1), 0, NULL));
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(1), 0, &f),
			 HYVM_SHADOW_RETRY);
	assert_int_equal(w->vm->stats.hidden_faults, 1);
	assert_true(hw_ok(w, VA(1), 0, &gfn));
	assert_int_equal(gfn, 9);
	/* read fill with D clear: the store faults, hidden, sets D */
	assert_false(hw_ok(w, VA(1), HYVM_ACC_WRITE, NULL));
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(1), HYVM_ACC_WRITE, &f),
			 HYVM_SHADOW_RETRY);
	assert_true(fake_get(&w->ref, 0x4000 + 8, 8) & HYVM_PTE_D);
	assert_true(hw_ok(w, VA(1), HYVM_ACC_WRITE, NULL));
	/* the kernel view never executes guest code in place */
	assert_false(hw_ok(w, VA(1), HYVM_ACC_FETCH, NULL));
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(1), HYVM_ACC_FETCH, &f),
			 HYVM_SHADOW_EMULATE);

	/* true faults: supervisor store to a read-only page with WP */
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(2), HYVM_ACC_WRITE, &f),
			 HYVM_SHADOW_GUEST_PF);
	assert_int_equal(f.error_code, HYVM_PF_P | HYVM_PF_W);
	assert_int_equal(f.cr2, VA(2));
	/* user access to the supervisor page, from the user view */
	w->cpl = 3;
	sys_set_mode(w);
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(2), 0, &f),
			 HYVM_SHADOW_GUEST_PF);
	assert_int_equal(f.error_code, HYVM_PF_P | HYVM_PF_U);
	assert_false(hw_ok(w, VA(2), 0, NULL));
	/* not present */
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(3), HYVM_ACC_WRITE, &f),
			 HYVM_SHADOW_GUEST_PF);
	assert_int_equal(f.error_code, HYVM_PF_W | HYVM_PF_U);
	assert_int_equal(w->vm->stats.true_faults, 3);
	/* a frame that is not RAM */
	fake_set(&w->ref, 0x4000 + 32, PWU | 0x3f000, 8);
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(4), 0, &f),
			 HYVM_SHADOW_MMIO);
	assert_int_equal(f.gpa, 0x3f000);
	mini_free(w);
}

static void test_traced_write(void **state)
{
	struct world *w = mini_world(0);
	struct hyvm_shadow_fault f;
	u64 gfn;

	/* va 1 maps the guest's own page table (frame 4), writable */
	fake_set(&w->ref, 0x4000 + 8, PWU | HYVM_PTE_D | 0x4000, 8);
	fake_set(&w->ref, 0x4000 + 16, PWU | 0x9000, 8);
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(2), 0, &f),
			 HYVM_SHADOW_RETRY);
	assert_true(hyvm_shadow_gfn_traced(w->vm, 4));
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(1), 0, &f),
			 HYVM_SHADOW_RETRY);
	assert_true(hw_ok(w, VA(1), 0, &gfn));
	assert_int_equal(gfn, 4);
	/* stores to a traced table are emulated, not mapped */
	assert_false(hw_ok(w, VA(1), HYVM_ACC_WRITE, NULL));
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(1), HYVM_ACC_WRITE, &f),
			 HYVM_SHADOW_EMULATE);
	assert_true(f.traced);
	assert_int_equal(f.gpa, 0x4000);
	/* the emulated store retargets va 2: the shadow follows */
	assert_true(hw_ok(w, VA(2), 0, &gfn));
	assert_int_equal(gfn, 9);
	assert_int_equal(hyvm_shadow_traced_write(w->vm, 0x4000 + 16,
						  PWU | 0xb000, 8), 0);
	assert_int_equal(w->vm->stats.traced_writes, 1);
	assert_false(hw_ok(w, VA(2), 0, NULL));
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(2), 0, &f),
			 HYVM_SHADOW_RETRY);
	assert_true(hw_ok(w, VA(2), 0, &gfn));
	assert_int_equal(gfn, 0xb);
	/* a partial store to the entry's high half also zaps it */
	assert_int_equal(hyvm_shadow_traced_write(w->vm, 0x4000 + 16 + 7,
						  0x80, 1), 0);
	assert_false(hw_ok(w, VA(2), 0, NULL));
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(2), HYVM_ACC_FETCH, &f),
			 HYVM_SHADOW_GUEST_PF);	/* the store set NX */
	assert_int_equal(f.error_code, HYVM_PF_P | HYVM_PF_ID);
	assert_int_equal(hyvm_shadow_traced_write(w->vm, 0x4ffc, 0, 8), -EINVAL);
	mini_free(w);
}

static u64 traced_faults, traced_writes_seen, traced_zaps;

static void trace_fault(void *o, u64 gva, u32 access, int result,
			const struct hyvm_shadow_fault *f)
{
	traced_faults++;
}

static void trace_write(void *o, u64 gpa, u64 value, unsigned int size,
			u64 zapped)
{
	traced_writes_seen++;
	traced_zaps += zapped;
}

static void test_write_flooding(void **state)
{
	struct world *w = mini_world(0);
	struct hyvm_shadow_fault f;
	int i;

	/* the glue's tracepoint hooks see every fault and traced write */
	traced_faults = traced_writes_seen = traced_zaps = 0;
	w->vm->host.trace_fault = trace_fault;
	w->vm->host.trace_write = trace_write;
	fake_set(&w->ref, 0x4000 + 8, PWU | 0x9000, 8);
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(1), 0, &f),
			 HYVM_SHADOW_RETRY);
	assert_true(hyvm_shadow_gfn_traced(w->vm, 4));
	/* writes interleaved with use of the table: it stays a table */
	for (i = 0; i < 10; i++) {
		assert_int_equal(hyvm_shadow_traced_write(w->vm, 0x4000 + 8,
							  PWU | 0x9000, 8), 0);
		assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(1), 0, &f),
				 HYVM_SHADOW_RETRY);
	}
	assert_int_equal(w->vm->stats.unshadows, 0);
	/* writes with no use in between: data, unshadowed */
	for (i = 0; i < (int)w->vm->flood_threshold; i++)
		assert_int_equal(hyvm_shadow_traced_write(w->vm, 0x4000 + 512 + 8 * i,
							  i, 8), 0);
	assert_int_equal(w->vm->stats.unshadows, 1);
	assert_false(hyvm_shadow_gfn_traced(w->vm, 4));
	assert_false(hw_ok(w, VA(1), 0, NULL));
	/* used as a table again: shadowed again */
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(1), 0, &f),
			 HYVM_SHADOW_RETRY);
	assert_true(hyvm_shadow_gfn_traced(w->vm, 4));
	assert_int_equal(traced_faults, 12);
	assert_int_equal(traced_writes_seen, w->vm->stats.traced_writes);
	assert_true(traced_zaps >= 10);
	mini_free(w);
}

static void test_root_cache(void **state)
{
	struct world *w = mini_world(0);
	struct hyvm_shadow_fault f;
	u64 r1, r2, r;
	int i;

	fake_set(&w->ref, 0x4000 + 8, PWU | 0x9000, 8);
	fake_set(&w->ref, 0x5000 + 8, PWU | 0xa000, 8);
	assert_int_equal(hyvm_shadow_root(&w->vcpu, HYVM_VIEW_KERNEL, &r1), 0);
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(1), 0, &f),
			 HYVM_SHADOW_RETRY);
	assert_int_equal(hyvm_shadow_write_cr3(&w->vcpu, 0x6000), 0);
	assert_int_equal(hyvm_shadow_root(&w->vcpu, HYVM_VIEW_KERNEL, &r2), 0);
	assert_true(r1 != r2);
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(1), 0, &f),
			 HYVM_SHADOW_RETRY);
	for (i = 0; i < 10; i++) {
		u64 gfn;

		/* PCID no-flush or not: the shadow is coherent either way */
		assert_int_equal(hyvm_shadow_write_cr3(&w->vcpu, 0x1000 |
				 (i & 1 ? HYVM_CR3_NOFLUSH : 0)), 0);
		assert_int_equal(hyvm_shadow_root(&w->vcpu, HYVM_VIEW_KERNEL, &r), 0);
		assert_int_equal(r, r1);
		assert_true(hw_ok(w, VA(1), 0, &gfn));	/* no refill needed */
		assert_int_equal(gfn, 9);
		assert_int_equal(hyvm_shadow_write_cr3(&w->vcpu, 0x6000), 0);
		assert_int_equal(hyvm_shadow_root(&w->vcpu, HYVM_VIEW_KERNEL, &r), 0);
		assert_int_equal(r, r2);
		assert_true(hw_ok(w, VA(1), 0, &gfn));
		assert_int_equal(gfn, 0xa);
	}
	assert_int_equal(w->vm->stats.root_cache_hits, 20);
	assert_int_equal(w->vm->stats.hidden_faults, 2);
	/* the kernel and user views are different roots */
	w->cpl = 3;
	sys_set_mode(w);
	assert_int_equal(hyvm_shadow_root(&w->vcpu, HYVM_VIEW_USER, &r), 0);
	assert_true(r != r1 && r != r2);
	/* INVLPG drops the leaf; the next access refills it */
	w->cpl = 0;
	sys_set_mode(w);
	hyvm_shadow_invlpg(&w->vcpu, VA(1));
	assert_false(hw_ok(w, VA(1), 0, NULL));
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(1), 0, &f),
			 HYVM_SHADOW_RETRY);
	mini_free(w);
}

/*
 * bt's VMM region: fixed top-level entries in every kernel- and user-view
 * root, never dropped, and a guest mapping there is refused.
 */
static void test_fixed_entries(void **state)
{
	const u64 fixed[2] = { 0x77000 | PWU, 0x78000 | PWU };
	const u64 vmm_va = 0xffff800000001000ULL;
	struct world *w = mini_world(0);
	struct hyvm_shadow_fault f;
	struct hyvm_sp *kroot, *uroot;
	u64 r;

	/* a root that exists before the call gets them too */
	assert_int_equal(hyvm_shadow_root(&w->vcpu, HYVM_VIEW_KERNEL, &r), 0);
	assert_int_equal(hyvm_shadow_set_fixed(w->vm, 510, 3, fixed), -EINVAL);
	assert_int_equal(hyvm_shadow_set_fixed(w->vm, 256, 2, fixed), 0);
	kroot = w->vcpu.cur[HYVM_VIEW_KERNEL].sp;
	assert_int_equal(kroot->spt[256], fixed[0]);
	assert_int_equal(kroot->spt[257], fixed[1]);
	assert_int_equal(kroot->spt[258], 0);
	w->cpl = 3;
	sys_set_mode(w);
	assert_int_equal(hyvm_shadow_root(&w->vcpu, HYVM_VIEW_USER, &r), 0);
	uroot = w->vcpu.cur[HYVM_VIEW_USER].sp;
	assert_int_equal(uroot->spt[256], fixed[0]);
	assert_int_equal(uroot->spt[257], fixed[1]);

	/* a kernel-only entry: in kernel-view roots, never in user-view ones */
	assert_int_equal(hyvm_shadow_set_fixed_kernel(w->vm, 258, 1), -EINVAL);
	assert_int_equal(hyvm_shadow_set_fixed_kernel(w->vm, 257,
						      0x79000 | PWU), 0);
	assert_int_equal(kroot->spt[257], 0x79000 | PWU);
	assert_int_equal(uroot->spt[257], 0);
	assert_int_equal(uroot->spt[256], fixed[0]);

	/* the guest maps the range: refused, from either view */
	fake_set(&w->ref, 0x1000 + 256 * 8, PWU | 0x2000, 8);
	fake_set(&w->ref, 0x4000 + 8, PWU | 0x9000, 8);
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, vmm_va, 0, &f),
			 HYVM_SHADOW_FIXED);
	w->cpl = 0;
	sys_set_mode(w);
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, vmm_va,
						HYVM_ACC_WRITE, &f),
			 HYVM_SHADOW_FIXED);
	/* not mapped by the guest: an ordinary true fault */
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, vmm_va + (1ULL << 39),
						0, &f),
			 HYVM_SHADOW_GUEST_PF);
	/* the rest of the address space is shadowed as before */
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(1), 0, &f),
			 HYVM_SHADOW_RETRY);
	assert_true(hw_ok(w, VA(1), 0, NULL));

	/* nothing the guest or the host does drops them */
	assert_int_equal(hyvm_shadow_traced_write(w->vm, 0x1000 + 256 * 8,
						  0, 8), 0);
	hyvm_shadow_invlpg(&w->vcpu, vmm_va);
	hyvm_shadow_zap_all(w->vm);
	assert_int_equal(hyvm_shadow_root(&w->vcpu, HYVM_VIEW_KERNEL, &r), 0);
	kroot = w->vcpu.cur[HYVM_VIEW_KERNEL].sp;
	assert_int_equal(kroot->spt[256], fixed[0]);
	assert_int_equal(kroot->spt[257], 0x79000 | PWU);
	assert_int_equal(uroot->spt[256], fixed[0]);
	assert_int_equal(uroot->spt[257], 0);

	/* the hw view (vmx/svm) has no VMM region */
	w->vcpu.hw_view = true;
	sys_set_mode(w);
	assert_int_equal(hyvm_shadow_root(&w->vcpu, HYVM_VIEW_HW, &r), 0);
	assert_int_equal(w->vcpu.cur[HYVM_VIEW_HW].sp->spt[256], 0);
	fake_set(&w->ref, 0x1000 + 256 * 8, PWU | 0x2000, 8);
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, vmm_va, 0, &f),
			 HYVM_SHADOW_RETRY);
	mini_free(w);
}

static void test_cap_and_rmap(void **state)
{
	struct world *w = mini_world(6);
	struct hyvm_shadow_fault f;
	u64 gfn;
	int i;

	/* 16 page tables under one PD: more than the cap of 6 */
	for (i = 0; i < 16; i++) {
		fake_set(&w->ref, 0x3000 + 8 * i, PWU | (u64)(16 + i) << 12, 8);
		fake_set(&w->ref, (u64)(16 + i) << 12, PWU | 0x9000, 8);
	}
	for (i = 0; i < 16; i++) {
		assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, (u64)i << 21, 0, &f),
				 HYVM_SHADOW_RETRY);
		assert_true(hw_ok(w, (u64)i << 21, 0, &gfn));
		assert_int_equal(gfn, 9);
		assert_true(w->vm->stats.shadow_pages <= 6);
	}
	assert_true(w->vm->stats.reclaims >= 10);
	assert_true(w->host.live <= 6);
	/* reclaimed tables come back on demand */
	assert_false(hw_ok(w, 0, 0, NULL));
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, 0, 0, &f),
			 HYVM_SHADOW_RETRY);
	/* the host takes frame 9 away: every mapping of it goes */
	hyvm_shadow_zap_gfn(w->vm, 9);
	assert_false(hw_ok(w, 0, 0, NULL));
	assert_null(hyvm_rmap_find(w->vm, 9));
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, 0, 0, &f),
			 HYVM_SHADOW_RETRY);
	assert_non_null(hyvm_rmap_find(w->vm, 9));
	hyvm_shadow_zap_all(w->vm);
	assert_false(hw_ok(w, 0, 0, NULL));
	mini_free(w);
}

/* The shadow leaf for @va in the current root of @view (NULL: none). */
static u64 *shadow_leaf(struct world *w, enum hyvm_shadow_view view, u64 va)
{
	struct hyvm_sp *sp;
	u64 root;

	assert_int_equal(hyvm_shadow_root(&w->vcpu, view, &root), 0);
	sp = w->vcpu.cur[view].sp;
	while (sp && sp->role.level > 1) {
		u32 idx = (va >> (12 + 9 * (sp->role.level - 1))) & 511;

		sp = (sp->spt[idx] & HYVM_PTE_P) ?
		     ((struct hyvm_sp **)sp->aux)[idx] : NULL;
	}
	if (!sp || !(sp->spt[(va >> 12) & 511] & HYVM_PTE_P))
		return NULL;
	return &sp->spt[(va >> 12) & 511];
}

static void set_cpl(struct world *w, u8 cpl)
{
	w->cpl = cpl;
	sys_set_mode(w);
}

/*
 * Code protection: frame 9, mapped writable at va 1 and va 2 in the
 * kernel view and at va 1 in the user view, loses W everywhere; stores
 * report CODE_WRITE until it is unprotected, reads stay hidden faults.
 */
static void test_code_protect(void **state)
{
	struct world *w = mini_world(0);
	struct hyvm_shadow_fault f;
	u64 meta, *kl, *kl2, *ul, gfn;

	fake_set(&w->ref, 0x4000 + 8, PWU | 0x9000, 8);
	fake_set(&w->ref, 0x4000 + 16, PWU | 0x9000, 8);
	fake_set(&w->ref, 0x4000 + 24, PWU | 0xa000, 8);
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(1), HYVM_ACC_WRITE,
						&f), HYVM_SHADOW_RETRY);
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(2), HYVM_ACC_WRITE,
						&f), HYVM_SHADOW_RETRY);
	set_cpl(w, 3);
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(1), HYVM_ACC_WRITE,
						&f), HYVM_SHADOW_RETRY);
	assert_true(hw_ok(w, VA(1), HYVM_ACC_WRITE, NULL));
	kl = shadow_leaf(w, HYVM_VIEW_KERNEL, VA(1));
	kl2 = shadow_leaf(w, HYVM_VIEW_KERNEL, VA(2));
	ul = shadow_leaf(w, HYVM_VIEW_USER, VA(1));
	assert_non_null(kl);
	assert_non_null(kl2);
	assert_non_null(ul);
	assert_true(*kl & *kl2 & *ul & HYVM_PTE_W);

	w->vm->tlb_dirty = false;
	meta = w->vm->stats.meta_objects;
	assert_false(hyvm_shadow_code_protected(w->vm, 9));
	assert_int_equal(hyvm_shadow_protect_code(w->vm, 9), 0);
	assert_true(hyvm_shadow_code_protected(w->vm, 9));
	assert_false(hyvm_shadow_code_protected(w->vm, 10));
	assert_true(w->vm->tlb_dirty);
	assert_int_equal(w->vm->stats.code_protects, 1);
	assert_int_equal(w->vm->stats.meta_objects, meta + 1);
	/* read-only, still present, in every view */
	assert_false(*kl & HYVM_PTE_W);
	assert_false(*kl2 & HYVM_PTE_W);
	assert_false(*ul & HYVM_PTE_W);
	assert_true(hw_ok(w, VA(1), 0, &gfn));
	assert_int_equal(gfn, 9);
	assert_false(hw_ok(w, VA(1), HYVM_ACC_WRITE, NULL));

	/* idempotent: nothing more allocated, nothing to flush */
	w->vm->tlb_dirty = false;
	assert_int_equal(hyvm_shadow_protect_code(w->vm, 9), 0);
	assert_false(w->vm->tlb_dirty);
	assert_int_equal(w->vm->stats.code_protects, 1);
	assert_int_equal(w->vm->stats.meta_objects, meta + 1);

	/* a store the guest allows: reported, frame left read-only */
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(1) + 0x123,
						HYVM_ACC_WRITE, &f),
			 HYVM_SHADOW_CODE_WRITE);
	assert_int_equal(f.gpa, 0x9123);
	assert_false(f.traced);
	assert_false(hw_ok(w, VA(1), HYVM_ACC_WRITE, NULL));
	assert_true(hw_ok(w, VA(1), 0, NULL));
	/* a read is an ordinary hidden fault, and maps read-only */
	hyvm_shadow_invlpg(&w->vcpu, VA(1));
	assert_false(hw_ok(w, VA(1), 0, NULL));
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(1), 0, &f),
			 HYVM_SHADOW_RETRY);
	assert_true(hw_ok(w, VA(1), 0, NULL));
	assert_false(hw_ok(w, VA(1), HYVM_ACC_WRITE, NULL));
	/* a store the guest forbids is still a true fault */
	fake_set(&w->ref, 0x4000 + 32, HYVM_PTE_P | HYVM_PTE_U | 0x9000, 8);
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(4), HYVM_ACC_WRITE,
						&f), HYVM_SHADOW_GUEST_PF);
	/* the kernel view too; other frames are not affected */
	set_cpl(w, 0);
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(2), HYVM_ACC_WRITE,
						&f), HYVM_SHADOW_CODE_WRITE);
	assert_int_equal(f.gpa, 0x9000);
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(3), HYVM_ACC_WRITE,
						&f), HYVM_SHADOW_RETRY);
	assert_true(hw_ok(w, VA(3), HYVM_ACC_WRITE, NULL));
	assert_int_equal(w->vm->stats.code_write_faults, 2);

	/* unprotected: the retry maps it writable */
	meta = w->vm->stats.meta_objects;
	hyvm_shadow_unprotect_code(w->vm, 9);
	assert_false(hyvm_shadow_code_protected(w->vm, 9));
	assert_int_equal(w->vm->stats.meta_objects, meta - 1);
	hyvm_shadow_unprotect_code(w->vm, 9);
	assert_int_equal(w->vm->stats.meta_objects, meta - 1);
	assert_false(hw_ok(w, VA(2), HYVM_ACC_WRITE, NULL));
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(2), HYVM_ACC_WRITE,
						&f), HYVM_SHADOW_RETRY);
	assert_true(hw_ok(w, VA(2), HYVM_ACC_WRITE, &gfn));
	assert_int_equal(gfn, 9);

	/* the hw view (vmx/svm) obeys it as well */
	w->vcpu.hw_view = true;
	sys_set_mode(w);
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(1), HYVM_ACC_WRITE,
						&f), HYVM_SHADOW_RETRY);
	assert_true(hw_ok(w, VA(1), HYVM_ACC_WRITE, NULL));
	w->vm->tlb_dirty = false;
	assert_int_equal(hyvm_shadow_protect_code(w->vm, 9), 0);
	assert_true(w->vm->tlb_dirty);
	assert_false(hw_ok(w, VA(1), HYVM_ACC_WRITE, NULL));
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(1), HYVM_ACC_WRITE,
						&f), HYVM_SHADOW_CODE_WRITE);
	assert_int_equal(f.gpa, 0x9000);
	/* teardown with frames still protected frees their records */
	assert_int_equal(hyvm_shadow_protect_code(w->vm, 10), 0);
	assert_int_equal(w->vm->stats.code_protects, 3);
	mini_free(w);
}

/* A frame that is both a shadowed page table and code-protected. */
static void test_code_protect_table(void **state)
{
	struct world *w = mini_world(0);
	struct hyvm_shadow_fault f;

	/* va 1 maps the guest's page table (frame 4), writable and dirty */
	fake_set(&w->ref, 0x4000 + 8, PWU | HYVM_PTE_D | 0x4000, 8);
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(1), 0, &f),
			 HYVM_SHADOW_RETRY);
	assert_true(hyvm_shadow_gfn_traced(w->vm, 4));
	assert_int_equal(hyvm_shadow_protect_code(w->vm, 4), 0);
	/* the page-table outcome wins, and says the frame is code too */
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(1) + 8,
						HYVM_ACC_WRITE, &f),
			 HYVM_SHADOW_EMULATE);
	assert_true(f.traced);
	assert_true(f.code);
	assert_int_equal(f.gpa, 0x4008);
	assert_int_equal(w->vm->stats.code_write_faults, 0);
	/* unprotected, it is still a traced table: never writable */
	hyvm_shadow_unprotect_code(w->vm, 4);
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(1) + 8,
						HYVM_ACC_WRITE, &f),
			 HYVM_SHADOW_EMULATE);
	assert_true(f.traced);
	assert_false(f.code);
	assert_false(hw_ok(w, VA(1), HYVM_ACC_WRITE, NULL));

	/* zapping the table's shadow leaves the code protection alone */
	assert_int_equal(hyvm_shadow_protect_code(w->vm, 4), 0);
	hyvm_shadow_zap_all(w->vm);
	assert_false(hyvm_shadow_gfn_traced(w->vm, 4));
	assert_true(hyvm_shadow_code_protected(w->vm, 4));
	/* the walk shadows frame 4 again: both reasons hold */
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, VA(1), HYVM_ACC_WRITE,
						&f), HYVM_SHADOW_EMULATE);
	assert_true(f.traced && f.code);
	mini_free(w);
}

/*
 * A guest 2 MiB page over frames 0..511 (RAM up to 47): only the
 * protected 4 KiB frame inside it is read-only, as for a traced table.
 */
static void test_code_protect_large(void **state)
{
	const u64 big = 0x200000;	/* PD entry 1 */
	struct world *w = mini_world(0);
	struct hyvm_shadow_fault f;
	u64 *leaf, gfn;

	fake_set(&w->ref, 0x3000 + 8, PWU | HYVM_PTE_PS | HYVM_PTE_D, 8);
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, big + 0x9000,
						HYVM_ACC_WRITE, &f),
			 HYVM_SHADOW_RETRY);
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, big + 0xa000,
						HYVM_ACC_WRITE, &f),
			 HYVM_SHADOW_RETRY);
	leaf = shadow_leaf(w, HYVM_VIEW_KERNEL, big + 0x9000);
	assert_non_null(leaf);
	assert_true(*leaf & HYVM_PTE_W);
	assert_true(hw_ok(w, big + 0x9000, HYVM_ACC_WRITE, &gfn));
	assert_int_equal(gfn, 9);

	w->vm->tlb_dirty = false;
	assert_int_equal(hyvm_shadow_protect_code(w->vm, 9), 0);
	assert_true(w->vm->tlb_dirty);
	assert_false(*leaf & HYVM_PTE_W);
	assert_true(hw_ok(w, big + 0x9000, 0, NULL));
	assert_false(hw_ok(w, big + 0x9000, HYVM_ACC_WRITE, NULL));
	assert_true(hw_ok(w, big + 0xa000, HYVM_ACC_WRITE, NULL));
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, big + 0x9ff8,
						HYVM_ACC_WRITE, &f),
			 HYVM_SHADOW_CODE_WRITE);
	assert_int_equal(f.gpa, 0x9ff8);
	/* a neighbour filled later is writable; the frame again read-only */
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, big + 0xb000,
						HYVM_ACC_WRITE, &f),
			 HYVM_SHADOW_RETRY);
	assert_true(hw_ok(w, big + 0xb000, HYVM_ACC_WRITE, NULL));
	hyvm_shadow_zap_all(w->vm);
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, big + 0x9000, 0, &f),
			 HYVM_SHADOW_RETRY);
	assert_false(hw_ok(w, big + 0x9000, HYVM_ACC_WRITE, NULL));
	/* unprotected: the store retried is mapped writable */
	hyvm_shadow_unprotect_code(w->vm, 9);
	assert_int_equal(hyvm_shadow_page_fault(&w->vcpu, big + 0x9000,
						HYVM_ACC_WRITE, &f),
			 HYVM_SHADOW_RETRY);
	assert_true(hw_ok(w, big + 0x9000, HYVM_ACC_WRITE, &gfn));
	assert_int_equal(gfn, 9);
	mini_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hidden_and_true),
		cmocka_unit_test(test_traced_write),
		cmocka_unit_test(test_write_flooding),
		cmocka_unit_test(test_root_cache),
		cmocka_unit_test(test_cap_and_rmap),
		cmocka_unit_test(test_fixed_entries),
		cmocka_unit_test(test_code_protect),
		cmocka_unit_test(test_code_protect_table),
		cmocka_unit_test(test_code_protect_large),
		cmocka_unit_test(test_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
