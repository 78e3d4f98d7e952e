// SPDX-License-Identifier: GPL-2.0
/*
 * hyvm guest page-table walker.
 *
 * Implements linear-address translation as the Intel SDM (vol. 3, ch. 4)
 * and the AMD APM (vol. 2, ch. 5) describe it: 32-bit paging with PSE and
 * PSE-36, PAE paging, 4- and 5-level paging, every access-right rule, the
 * reserved-bit checks and the #PF error code.  The shadow MMU uses it to
 * tell hidden faults from true ones, the emulator and the translator use
 * it to reach guest memory, and the unit tests use it as the model.
 *
 * Accessed and dirty flags are set only when the access succeeds, from the
 * top level down, each with a compare-and-exchange so that a concurrent
 * change by another vCPU restarts the walk (as the locked update of the
 * hardware walker would observe it).
 */
#include "walk.h"

/* A walk restarts when its A/D update races; give up after this many. */
#define HYVM_WALK_MAX_RETRIES	16

enum hyvm_paging_kind hyvm_paging_kind(const struct hyvm_paging_mode *m)
{
	if (!(m->cr0 & HYVM_CR0_PG))
		return HYVM_PAGING_NONE;
	if (!(m->cr4 & HYVM_CR4_PAE))
		return HYVM_PAGING_32;
	if (!(m->efer & HYVM_EFER_LMA))
		return HYVM_PAGING_PAE;
	return (m->cr4 & HYVM_CR4_LA57) ? HYVM_PAGING_5LVL : HYVM_PAGING_4LVL;
}

static unsigned int kind_levels(enum hyvm_paging_kind kind)
{
	switch (kind) {
	case HYVM_PAGING_32:
		return 2;
	case HYVM_PAGING_PAE:
		return 3;
	case HYVM_PAGING_4LVL:
		return 4;
	case HYVM_PAGING_5LVL:
		return 5;
	default:
		return 0;
	}
}

/**
 * hyvm_walk_addr_mask - physical-address bits of an 8-byte entry
 * @m: paging mode (for MAXPHYADDR)
 * @kind: paging kind
 *
 * Return: the mask of bits 12..MAXPHYADDR-1 (bits 12..31 for 32-bit paging).
 */
u64 hyvm_walk_addr_mask(const struct hyvm_paging_mode *m,
			enum hyvm_paging_kind kind)
{
	if (kind == HYVM_PAGING_32)
		return GENMASK_ULL(31, 12);
	return GENMASK_ULL(m->maxphyaddr - 1, 12);
}

/**
 * hyvm_walk_rsvd_mask - reserved bits of a present paging-structure entry
 * @m: paging mode
 * @kind: paging kind
 * @level: level of the entry (1 = PTE); for PAE, 3 is a PDPTE
 * @large: the entry has PS set where PS maps a page
 *
 * Return: the bits that must be zero; any set gives #PF with RSVD.
 */
u64 hyvm_walk_rsvd_mask(const struct hyvm_paging_mode *m,
			enum hyvm_paging_kind kind, int level, bool large)
{
	unsigned int maxpa = m->maxphyaddr;
	bool nxe = m->efer & HYVM_EFER_NXE;
	u64 rsvd = 0;

	if (kind == HYVM_PAGING_32) {
		/* PSE-36: PDE bits 20:13 hold physical bits 39:32. */
		if (level == 2 && large) {
			unsigned int hi = min(maxpa, 40U);

			rsvd = GENMASK_ULL(21, 13 + (hi > 32 ? hi - 32 : 0));
		}
		return rsvd;
	}

	if (kind == HYVM_PAGING_PAE) {
		if (level == 3)
			/* PDPTE: no access rights, bit 63 reserved too. */
			return GENMASK_ULL(63, maxpa) | GENMASK_ULL(8, 5) |
			       GENMASK_ULL(2, 1);
		rsvd = GENMASK_ULL(62, maxpa);
	} else {
		if (maxpa < 52)
			rsvd = GENMASK_ULL(51, maxpa);
		if (level == kind_levels(kind) ||
		    (kind == HYVM_PAGING_5LVL && level == 4))
			rsvd |= HYVM_PTE_PS;	/* no 512G/256T pages */
		if (level == 3 && large)
			rsvd |= GENMASK_ULL(29, 13);
	}
	if (!nxe)
		rsvd |= HYVM_PTE_NX;
	if (level == 2 && large)
		rsvd |= GENMASK_ULL(20, 13);
	return rsvd;
}

/**
 * hyvm_walk_load_pdptrs - load the PAE PDPTE registers as a CR3 write does
 * @mem: guest memory
 * @m: paging mode whose @cr3 is read and whose @pdptr is filled
 *
 * Return: 0, or a negative errno if the PDPT is not backed.  Reserved bits
 * are not checked here (hardware gives #GP on the MOV to CR3; the caller
 * may check with hyvm_walk_rsvd_mask()); a walk through a PDPTE with
 * reserved bits reports #PF with RSVD.
 */
int hyvm_walk_load_pdptrs(const struct hyvm_gmem_ops *mem,
			  struct hyvm_paging_mode *m)
{
	return mem->read(mem->opaque, m->cr3 & GENMASK_ULL(31, 5), m->pdptr,
			 sizeof(m->pdptr));
}

static int read_pte(const struct hyvm_gmem_ops *mem, u64 gpa,
		    unsigned int size, u64 *pte)
{
	u32 v32;
	int r;

	if (size == 4) {
		r = mem->read(mem->opaque, gpa, &v32, 4);
		*pte = v32;
		return r;
	}
	return mem->read(mem->opaque, gpa, pte, 8);
}

static bool canonical(u64 va, unsigned int bits)
{
	s64 s = (s64)(va << (64 - bits)) >> (64 - bits);

	return (u64)s == va;
}

/* Large-page frame of a leaf at @level: 4M (32-bit), 2M or 1G. */
static u64 leaf_gpa(const struct hyvm_paging_mode *m,
		    enum hyvm_paging_kind kind, int level, u64 pte, u64 va)
{
	u64 amask = hyvm_walk_addr_mask(m, kind);

	if (level == 1)
		return (pte & amask) | (va & 0xfff);
	if (kind == HYVM_PAGING_32)
		return (pte & GENMASK_ULL(31, 22)) |
		       ((pte & GENMASK_ULL(20, 13)) << 19) |
		       (va & GENMASK_ULL(21, 0));
	if (level == 2)
		return (pte & amask & ~GENMASK_ULL(20, 0)) |
		       (va & GENMASK_ULL(20, 0));
	return (pte & amask & ~GENMASK_ULL(29, 0)) | (va & GENMASK_ULL(29, 0));
}

/* Decide the access rights once the leaf is known: the SDM 4.6 rules. */
static u32 check_rights(const struct hyvm_paging_mode *m,
			enum hyvm_paging_kind kind, struct hyvm_walk *w,
			u32 access)
{
	bool write = access & HYVM_ACC_WRITE;
	bool fetch = access & HYVM_ACC_FETCH;
	bool user = access & HYVM_ACC_USER;
	bool implicit = access & HYVM_ACC_IMPLICIT;
	bool wp = m->cr0 & HYVM_CR0_WP;
	bool fault = false;
	u32 pk = 0;

	if (user) {
		if (!w->eff_user)
			fault = true;
		else if (write && !w->eff_write)
			fault = true;
		else if (fetch && w->eff_nx)
			fault = true;
	} else if (fetch) {
		if (w->eff_nx)
			fault = true;
		if (w->eff_user && (m->cr4 & HYVM_CR4_SMEP))
			fault = true;
	} else {
		if (w->eff_user && (m->cr4 & HYVM_CR4_SMAP) &&
		    (implicit || !m->ac))
			fault = true;
		if (write && !w->eff_write && wp)
			fault = true;
	}

	/* Protection keys: data accesses to user-mode addresses only. */
	if (!fetch && w->eff_user && (m->cr4 & HYVM_CR4_PKE) &&
	    (kind == HYVM_PAGING_4LVL || kind == HYVM_PAGING_5LVL)) {
		u32 bits = m->pkru >> (2 * w->pkey);

		if ((bits & 1) || ((bits & 2) && write && (wp || user))) {
			fault = true;
			pk = HYVM_PF_PK;
		}
	}
	return fault ? HYVM_PF_P | pk : 0;
}

/* Set A on every level (and D on the leaf for writes); 1 = raced. */
static int set_ad(const struct hyvm_gmem_ops *mem, struct hyvm_walk *w,
		  u32 access)
{
	int level, r;

	for (level = w->levels; level >= w->leaf_level; level--) {
		u64 old = w->pte[level], new = old | HYVM_PTE_A;

		if (w->kind == HYVM_PAGING_PAE && level == 3)
			continue;	/* PDPTEs have no A flag */
		if (level == w->leaf_level && (access & HYVM_ACC_WRITE))
			new |= HYVM_PTE_D;
		if (new == old)
			continue;
		r = mem->cmpxchg_gpa(mem->opaque, w->pte_gpa[level], old, new,
				 w->pte_size);
		if (r == -EAGAIN)
			return 1;
		if (r)
			return r;
		w->pte[level] = new;
	}
	return 0;
}

/**
 * hyvm_walk - translate a linear address as the guest's MMU would
 * @mem: guest physical memory
 * @m: paging mode
 * @gva: linear address
 * @access: HYVM_ACC_* flags
 * @w: result
 *
 * On a fault @w->error_code is exactly what hardware would push.  On
 * success A (and D for writes) are set in guest memory unless
 * HYVM_ACC_NO_AD is given.
 *
 * Return: @w->status.
 */
enum hyvm_walk_status hyvm_walk(const struct hyvm_gmem_ops *mem,
				const struct hyvm_paging_mode *m, u64 gva,
				u32 access, struct hyvm_walk *w)
{
	enum hyvm_paging_kind kind = hyvm_paging_kind(m);
	bool nxe = m->efer & HYVM_EFER_NXE;
	unsigned int retries = 0;
	u32 pfec;
	int level, r;

	pfec = access & (HYVM_ACC_WRITE | HYVM_ACC_USER);
	if ((access & HYVM_ACC_FETCH) &&
	    ((m->cr4 & HYVM_CR4_SMEP) ||
	     (kind != HYVM_PAGING_32 && kind != HYVM_PAGING_NONE && nxe)))
		pfec |= HYVM_PF_ID;

restart:
	memset(w, 0, sizeof(*w));
	w->kind = kind;
	w->gva = gva;
	w->levels = kind_levels(kind);
	w->eff_user = true;
	w->eff_write = true;

	if (kind == HYVM_PAGING_NONE) {
		w->gpa = gva;
		w->status = HYVM_WALK_OK;
		return w->status;
	}
	if (kind == HYVM_PAGING_32 || kind == HYVM_PAGING_PAE) {
		gva &= 0xffffffffULL;
		w->gva = gva;
	} else if (!canonical(gva, kind == HYVM_PAGING_5LVL ? 57 : 48)) {
		w->status = HYVM_WALK_GP;
		return w->status;
	}
	w->pte_size = kind == HYVM_PAGING_32 ? 4 : 8;

	{
		u64 table = m->cr3 & (kind == HYVM_PAGING_32 ?
				      GENMASK_ULL(31, 12) :
				      hyvm_walk_addr_mask(m, kind));

		for (level = w->levels; level >= 1; level--) {
			unsigned int shift, idx;
			u64 pte;
			bool large = false;

			if (kind == HYVM_PAGING_32) {
				shift = 12 + 10 * (level - 1);
				idx = (gva >> shift) & 1023;
			} else {
				shift = 12 + 9 * (level - 1);
				idx = (gva >> shift) & 511;
			}

			if (kind == HYVM_PAGING_PAE && level == 3) {
				idx = (gva >> 30) & 3;
				pte = m->pdptr[idx];
				w->pte_gpa[level] = (m->cr3 & GENMASK_ULL(31, 5)) +
						    idx * 8;
			} else {
				w->pte_gpa[level] = table + idx * w->pte_size;
				r = read_pte(mem, w->pte_gpa[level],
					     w->pte_size, &pte);
				if (r) {
					w->fault_level = level;
					w->status = HYVM_WALK_MEMERR;
					return w->status;
				}
			}
			w->pte[level] = pte;

			if (!(pte & HYVM_PTE_P)) {
				w->fault_level = level;
				w->error_code = pfec;
				w->status = HYVM_WALK_PF;
				return w->status;
			}
			if (pte & HYVM_PTE_PS) {
				if (kind == HYVM_PAGING_32)
					large = level == 2 &&
						(m->cr4 & HYVM_CR4_PSE);
				else
					large = level == 2 || level == 3;
			}
			if (pte & hyvm_walk_rsvd_mask(m, kind, level, large)) {
				w->fault_level = level;
				w->error_code = pfec | HYVM_PF_P | HYVM_PF_RSVD;
				w->status = HYVM_WALK_PF;
				return w->status;
			}
			if (!(kind == HYVM_PAGING_PAE && level == 3)) {
				w->eff_user &= !!(pte & HYVM_PTE_U);
				w->eff_write &= !!(pte & HYVM_PTE_W);
				if (nxe && (pte & HYVM_PTE_NX))
					w->eff_nx = true;
			}
			if (level == 1 || large) {
				w->leaf_level = level;
				w->gpa = leaf_gpa(m, kind, level, pte, gva);
				if (kind == HYVM_PAGING_4LVL ||
				    kind == HYVM_PAGING_5LVL)
					w->pkey = (pte & HYVM_PTE_PKEY_MASK) >>
						  HYVM_PTE_PKEY_SHIFT;
				break;
			}
			table = pte & hyvm_walk_addr_mask(m, kind);
		}
	}

	r = check_rights(m, kind, w, access);
	if (r) {
		w->fault_level = w->leaf_level;
		w->error_code = pfec | r;
		w->status = HYVM_WALK_PF;
		return w->status;
	}

	if (!(access & HYVM_ACC_NO_AD)) {
		r = set_ad(mem, w, access);
		if (r == 1 && ++retries < HYVM_WALK_MAX_RETRIES)
			goto restart;
		if (r) {
			w->status = HYVM_WALK_MEMERR;
			return w->status;
		}
	}
	w->status = HYVM_WALK_OK;
	return w->status;
}
