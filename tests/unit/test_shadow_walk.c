// SPDX-License-Identifier: GPL-2.0
/*
 * The guest page-table walker against a table of hardware rules (Intel
 * SDM vol. 3 ch. 4.6-4.8, AMD APM vol. 2 ch. 5): one row per rule, each
 * with the error code hardware gives, and the A/D flags checked after.
 */
#include "test_shadow_fake.h"

enum { K32 = 1, KPAE, K4, K5 };

#define F_WP	BIT(0)
#define F_SMEP	BIT(1)
#define F_SMAP	BIT(2)
#define F_PKE	BIT(3)
#define F_NXE	BIT(4)
#define F_PSE	BIT(5)
#define F_AC	BIT(6)

#define PWU	(HYVM_PTE_P | HYVM_PTE_W | HYVM_PTE_U)
#define PW	(HYVM_PTE_P | HYVM_PTE_W)
#define PU	(HYVM_PTE_P | HYVM_PTE_U)
#define P	HYVM_PTE_P
#define NX	HYVM_PTE_NX
#define PS	HYVM_PTE_PS
#define KEY(k)	((u64)(k) << HYVM_PTE_PKEY_SHIFT)

#define W	HYVM_ACC_WRITE
#define U	HYVM_ACC_USER
#define X	HYVM_ACC_FETCH
#define IMP	HYVM_ACC_IMPLICIT

#define EP	HYVM_PF_P
#define EW	HYVM_PF_W
#define EU	HYVM_PF_U
#define ER	HYVM_PF_RSVD
#define EI	HYVM_PF_ID
#define EK	HYVM_PF_PK

#define OK	(-1)	/* expected: translation succeeds */
#define GP	(-2)	/* expected: non-canonical */
#define MEM	(-3)	/* expected: memory error */

struct rule {
	const char *name;
	int kind;
	u32 feat;
	u32 pkru;
	u64 upper;	/* flags of every non-leaf entry */
	u64 leaf;	/* flags of the leaf */
	int large;	/* leaf level: 1 (default), 2 or 3 */
	int lvl;	/* entry to modify after building ... */
	u64 set, clr;	/* ... with these bits */
	u32 access;
	long ec;	/* error code, or OK / GP / MEM */
	u8 maxpa;	/* default 46 */
	u64 va;		/* default: the kind's standard address */
};

static const struct rule rules[] = {
	/* basic translation, each paging kind */
	{ "4l supervisor read", K4, 0, 0, PWU, PWU, 1, 0, 0, 0, 0, OK },
	{ "4l user read", K4, 0, 0, PWU, PWU, 1, 0, 0, 0, U, OK },
	{ "4l user write", K4, 0, 0, PWU, PWU, 1, 0, 0, 0, U | W, OK },
	{ "4l user fetch", K4, F_NXE, 0, PWU, PWU, 1, 0, 0, 0, U | X, OK },
	{ "5l user read", K5, 0, 0, PWU, PWU, 1, 0, 0, 0, U, OK },
	{ "pae read", KPAE, 0, 0, PWU, PWU, 1, 0, 0, 0, U, OK },
	{ "32bit read", K32, 0, 0, PWU, PWU, 1, 0, 0, 0, U, OK },
	/* not present: P=0, W/U/ID from the access */
	{ "np pml4e", K4, 0, 0, PWU, PWU, 1, 4, 0, P, 0, 0 },
	{ "np pml5e", K5, 0, 0, PWU, PWU, 1, 5, 0, P, U, EU },
	{ "np pdpte", K4, 0, 0, PWU, PWU, 1, 3, 0, P, W, EW },
	{ "np pde", K4, 0, 0, PWU, PWU, 1, 2, 0, P, U | W, EU | EW },
	{ "np pte", K4, 0, 0, PWU, PWU, 1, 1, 0, P, U, EU },
	{ "np fetch nxe sets ID", K4, F_NXE, 0, PWU, PWU, 1, 1, 0, P, X, EI },
	{ "np fetch no nxe no ID", K4, 0, 0, PWU, PWU, 1, 1, 0, P, X, 0 },
	{ "np fetch smep sets ID", K4, F_SMEP, 0, PWU, PWU, 1, 1, 0, P, X, EI },
	{ "32bit np fetch smep ID", K32, F_SMEP, 0, PWU, PWU, 1, 1, 0, P, X, EI },
	{ "32bit np fetch nxe no ID", K32, F_NXE, 0, PWU, PWU, 1, 1, 0, P, X, 0 },
	{ "np entry ignores rsvd", K4, 0, 0, PWU, PWU, 1, 1, BIT_ULL(50), P, 0, 0 },
	{ "pae np pdpte", KPAE, 0, 0, PWU, PWU, 1, 3, 0, P, U, EU },
	{ "32bit np pde", K32, 0, 0, PWU, PWU, 1, 2, 0, P, W, EW },
	/* U/S */
	{ "user read sup leaf", K4, 0, 0, PWU, PW, 1, 0, 0, 0, U, EP | EU },
	{ "user read sup pdpte", K4, 0, 0, PWU, PWU, 1, 3, 0, HYVM_PTE_U, U, EP | EU },
	{ "user fetch sup page", K4, F_NXE, 0, PWU, PW, 1, 0, 0, 0, U | X, EP | EU | EI },
	{ "sup read user page", K4, 0, 0, PWU, PWU, 1, 0, 0, 0, 0, OK },
	{ "pae user read sup", KPAE, 0, 0, PWU, PW, 1, 0, 0, 0, U, EP | EU },
	{ "32bit user read sup pde", K32, 0, 0, PWU, PWU, 1, 2, 0, HYVM_PTE_U, U, EP | EU },
	/* R/W and CR0.WP */
	{ "user write ro leaf", K4, 0, 0, PWU, PU, 1, 0, 0, 0, U | W, EP | EW | EU },
	{ "user write ro pde", K4, 0, 0, PWU, PWU, 1, 2, 0, HYVM_PTE_W, U | W, EP | EW | EU },
	{ "user write ro wp0", K4, 0, 0, PWU, PU, 1, 0, 0, 0, U | W, EP | EW | EU },
	{ "sup write ro wp0", K4, 0, 0, PWU, P, 1, 0, 0, 0, W, OK },
	{ "sup write ro wp1", K4, F_WP, 0, PWU, P, 1, 0, 0, 0, W, EP | EW },
	{ "sup write ro pml4e wp1", K4, F_WP, 0, PWU, PW, 1, 4, 0, HYVM_PTE_W, W, EP | EW },
	{ "sup write user ro wp0", K4, 0, 0, PWU, PU, 1, 0, 0, 0, W, OK },
	{ "sup write user ro wp1", K4, F_WP, 0, PWU, PU, 1, 0, 0, 0, W, EP | EW },
	{ "32bit sup write ro wp1", K32, F_WP, 0, PWU, P, 1, 0, 0, 0, W, EP | EW },
	/* NX */
	{ "fetch nx leaf", K4, F_NXE, 0, PWU, PWU | NX, 1, 0, 0, 0, X, EP | EI },
	{ "fetch nx pml4e", K4, F_NXE, 0, PWU, PWU, 1, 4, NX, 0, X, EP | EI },
	{ "user fetch nx", K4, F_NXE, 0, PWU, PWU | NX, 1, 0, 0, 0, U | X, EP | EU | EI },
	{ "read nx ok", K4, F_NXE, 0, PWU, PWU | NX, 1, 0, 0, 0, U, OK },
	{ "nx without nxe rsvd", K4, 0, 0, PWU, PWU | NX, 1, 0, 0, 0, 0, EP | ER },
	{ "nx without nxe rsvd fetch", K4, 0, 0, PWU, PWU | NX, 1, 0, 0, 0, X, EP | ER },
	{ "pae fetch nx", KPAE, F_NXE, 0, PWU, PWU | NX, 1, 0, 0, 0, X, EP | EI },
	{ "pae nx without nxe rsvd", KPAE, 0, 0, PWU, PWU | NX, 1, 0, 0, 0, 0, EP | ER },
	/* SMEP */
	{ "smep sup fetch user", K4, F_SMEP, 0, PWU, PWU, 1, 0, 0, 0, X, EP | EI },
	{ "smep sup fetch sup", K4, F_SMEP, 0, PWU, PW, 1, 0, 0, 0, X, OK },
	{ "smep sup fetch sup pde", K4, F_SMEP, 0, PWU, PWU, 1, 2, 0, HYVM_PTE_U, X, OK },
	{ "smep user fetch user", K4, F_SMEP, 0, PWU, PWU, 1, 0, 0, 0, U | X, OK },
	{ "no smep sup fetch user", K4, 0, 0, PWU, PWU, 1, 0, 0, 0, X, OK },
	{ "32bit smep", K32, F_SMEP, 0, PWU, PWU, 1, 0, 0, 0, X, EP | EI },
	{ "smep and nx", K4, F_SMEP | F_NXE, 0, PWU, PWU | NX, 1, 0, 0, 0, X, EP | EI },
	/* SMAP */
	{ "smap read user ac0", K4, F_SMAP, 0, PWU, PWU, 1, 0, 0, 0, 0, EP },
	{ "smap read user ac1", K4, F_SMAP | F_AC, 0, PWU, PWU, 1, 0, 0, 0, 0, OK },
	{ "smap implicit ac1", K4, F_SMAP | F_AC, 0, PWU, PWU, 1, 0, 0, 0, IMP, EP },
	{ "smap implicit write", K4, F_SMAP | F_AC, 0, PWU, PWU, 1, 0, 0, 0, IMP | W, EP | EW },
	{ "smap write user ac0", K4, F_SMAP, 0, PWU, PWU, 1, 0, 0, 0, W, EP | EW },
	{ "smap write user ro ac1 wp1", K4, F_SMAP | F_AC | F_WP, 0, PWU, PU, 1, 0, 0, 0, W, EP | EW },
	{ "smap write user ro ac1 wp0", K4, F_SMAP | F_AC, 0, PWU, PU, 1, 0, 0, 0, W, OK },
	{ "smap read sup page", K4, F_SMAP, 0, PWU, PW, 1, 0, 0, 0, 0, OK },
	{ "smap user read", K4, F_SMAP, 0, PWU, PWU, 1, 0, 0, 0, U, OK },
	{ "smap sup fetch user", K4, F_SMAP, 0, PWU, PWU, 1, 0, 0, 0, X, OK },
	{ "no smap implicit", K4, 0, 0, PWU, PWU, 1, 0, 0, 0, IMP, OK },
	{ "pae smap", KPAE, F_SMAP, 0, PWU, PWU, 1, 0, 0, 0, 0, EP },
	/* protection keys */
	{ "pk user read ad", K4, F_PKE, 0x4, PWU, PWU | KEY(1), 1, 0, 0, 0, U, EP | EU | EK },
	{ "pk user write wd", K4, F_PKE, 0x8, PWU, PWU | KEY(1), 1, 0, 0, 0, U | W, EP | EW | EU | EK },
	{ "pk user read wd", K4, F_PKE, 0x8, PWU, PWU | KEY(1), 1, 0, 0, 0, U, OK },
	{ "pk user write wd wp0", K4, F_PKE, 0x8, PWU, PWU | KEY(1), 1, 0, 0, 0, U | W, EP | EW | EU | EK },
	{ "pk sup read user ad", K4, F_PKE, 0x4, PWU, PWU | KEY(1), 1, 0, 0, 0, 0, EP | EK },
	{ "pk sup write wd wp0", K4, F_PKE, 0x8, PWU, PWU | KEY(1), 1, 0, 0, 0, W, OK },
	{ "pk sup write wd wp1", K4, F_PKE | F_WP, 0x8, PWU, PWU | KEY(1), 1, 0, 0, 0, W, EP | EW | EK },
	{ "pk fetch ignores keys", K4, F_PKE | F_NXE, 0x4, PWU, PWU | KEY(1), 1, 0, 0, 0, U | X, OK },
	{ "pk sup page no keys", K4, F_PKE, 0x4, PWU, PW | KEY(1), 1, 0, 0, 0, 0, OK },
	{ "pk other key", K4, F_PKE, 0x4, PWU, PWU | KEY(2), 1, 0, 0, 0, U, OK },
	{ "pk key 15", K4, F_PKE, 0xc0000000, PWU, PWU | KEY(15), 1, 0, 0, 0, U, EP | EU | EK },
	{ "pk off: bits ignored", K4, 0, 0x4, PWU, PWU | KEY(1), 1, 0, 0, 0, U, OK },
	{ "pk and ro both", K4, F_PKE, 0x8, PWU, PU | KEY(1), 1, 0, 0, 0, U | W, EP | EW | EU | EK },
	{ "pk user read sup page", K4, F_PKE, 0x4, PWU, PW | KEY(1), 1, 0, 0, 0, U, EP | EU },
	{ "pk not in pae", KPAE, F_PKE, 0x4, PWU, PWU, 1, 0, 0, 0, U, OK },
	{ "pk on 2M page", K4, F_PKE, 0x4, PWU, PWU | KEY(1), 2, 0, 0, 0, U, EP | EU | EK },
	/* reserved bits */
	{ "rsvd pte maxpa", K4, 0, 0, PWU, PWU | BIT_ULL(46), 1, 0, 0, 0, 0, EP | ER },
	{ "rsvd pte bit51", K4, 0, 0, PWU, PWU | BIT_ULL(51), 1, 0, 0, 0, U | W, EP | ER | EU | EW },
	{ "maxpa 52 no rsvd", K4, 0, 0, PWU, PWU | BIT_ULL(51), 1, 0, 0, 0, 0, OK, 52 },
	{ "maxpa 39 bit 39", K4, 0, 0, PWU, PWU | BIT_ULL(39), 1, 0, 0, 0, 0, EP | ER, 39 },
	{ "rsvd pml4e ps", K4, 0, 0, PWU, PWU, 1, 4, PS, 0, 0, EP | ER },
	{ "rsvd pml5e ps", K5, 0, 0, PWU, PWU, 1, 5, PS, 0, 0, EP | ER },
	{ "rsvd 5l pml4e ps", K5, 0, 0, PWU, PWU, 1, 4, PS, 0, 0, EP | ER },
	{ "rsvd 2M bit13", K4, 0, 0, PWU, PWU, 2, 2, BIT_ULL(13), 0, 0, EP | ER },
	{ "rsvd 1G bit29", K4, 0, 0, PWU, PWU, 3, 3, BIT_ULL(29), 0, 0, EP | ER },
	{ "2M PAT bit ok", K4, 0, 0, PWU, PWU, 2, 2, BIT_ULL(12), 0, 0, OK },
	{ "rsvd upper first", K4, 0, 0, PWU, PWU, 1, 3, BIT_ULL(47), 0, X, EP | ER },
	{ "rsvd fetch nxe ID", K4, F_NXE, 0, PWU, PWU | BIT_ULL(47), 1, 0, 0, 0, X, EP | ER | EI },
	{ "4l ignored bit 55", K4, 0, 0, PWU, PWU | BIT_ULL(55), 1, 0, 0, 0, 0, OK },
	{ "4l ignored bit 62 upper", K4, 0, 0, PWU, PWU, 1, 3, BIT_ULL(62), 0, 0, OK },
	{ "pae bit 55 rsvd", KPAE, 0, 0, PWU, PWU | BIT_ULL(55), 1, 0, 0, 0, 0, EP | ER },
	{ "pae pdpte rw rsvd", KPAE, 0, 0, PWU, PWU, 1, 3, HYVM_PTE_W, 0, 0, EP | ER },
	{ "pae pdpte nx rsvd", KPAE, F_NXE, 0, PWU, PWU, 1, 3, NX, 0, 0, EP | ER },
	{ "pae 2M bit20", KPAE, 0, 0, PWU, PWU, 2, 2, BIT_ULL(20), 0, 0, EP | ER },
	{ "32bit 4M bit21", K32, F_PSE, 0, PWU, PWU, 2, 2, BIT_ULL(21), 0, 0, EP | ER },
	{ "32bit pse36 maxpa36", K32, F_PSE, 0, PWU, PWU, 2, 2, BIT_ULL(17), 0, 0, EP | ER, 36 },
	{ "32bit pte high ok", K32, 0, 0, PWU, PWU, 1, 0, 0, 0, 0, OK },
	/* large pages and A/D */
	{ "2M page", K4, 0, 0, PWU, PWU, 2, 0, 0, 0, U | W, OK },
	{ "1G page", K4, 0, 0, PWU, PWU, 3, 0, 0, 0, U | W, OK },
	{ "5l 1G page", K5, 0, 0, PWU, PWU, 3, 0, 0, 0, W, OK },
	{ "pae 2M page", KPAE, 0, 0, PWU, PWU, 2, 0, 0, 0, W, OK },
	{ "32bit 4M page", K32, F_PSE, 0, PWU, PWU, 2, 0, 0, 0, W, OK },
	{ "32bit ps without pse", K32, 0, 0, PWU, PWU, 1, 2, PS, 0, W, OK },
	{ "32bit pse36 gpa", K32, F_PSE, 0, PWU, PWU, 2, 2, BIT_ULL(14), 0, 0, OK, 40 },
	{ "2M ro user write", K4, 0, 0, PWU, PU, 2, 0, 0, 0, U | W, EP | EW | EU },
	/* canonical */
	{ "4l non-canonical", K4, 0, 0, PWU, PWU, 1, 0, 0, 0, 0, GP, 0, 0x0000800000000000ULL },
	{ "5l canonical high", K5, 0, 0, PWU, PWU, 1, 5, 0, P, 0, 0, 0, 0xff00000000000000ULL },
	{ "5l non-canonical", K5, 0, 0, PWU, PWU, 1, 0, 0, 0, 0, GP, 0, 0x0100000000000000ULL },
	{ "pae ignores high va", KPAE, 0, 0, PWU, PWU, 1, 0, 0, 0, 0, OK, 0, 0xffffffff00000000ULL | (2ULL << 30 | 7 << 21 | 9 << 12 | 0xabc) },
	/* unbacked table */
	{ "unbacked pt", K4, 0, 0, PWU, PWU, 1, 2, 0x40000, 0, 0, MEM },
};

/* Tables at frames 1..5; the leaf maps this frame or large page. */
#define DATA_GPA_4K	0x123000ULL
#define DATA_GPA_2M	0x40200000ULL
#define DATA_GPA_4M	0x40400000ULL
#define DATA_GPA_1G	0x80000000ULL

static u64 std_va(int kind)
{
	switch (kind) {
	case K32:
		return 3ULL << 22 | 9ULL << 12 | 0xabc;
	case KPAE:
		return 2ULL << 30 | 7ULL << 21 | 9ULL << 12 | 0xabc;
	case K5:
		return 2ULL << 48 | 3ULL << 39 | 5ULL << 30 | 7ULL << 21 |
		       9ULL << 12 | 0xabc;
	default:
		return 3ULL << 39 | 5ULL << 30 | 7ULL << 21 | 9ULL << 12 | 0xabc;
	}
}

static void setup_mode(const struct rule *r, struct hyvm_paging_mode *m)
{
	memset(m, 0, sizeof(*m));
	m->cr0 = HYVM_CR0_PE | HYVM_CR0_PG | (r->feat & F_WP ? HYVM_CR0_WP : 0);
	m->cr4 = (r->feat & F_SMEP ? HYVM_CR4_SMEP : 0) |
		 (r->feat & F_SMAP ? HYVM_CR4_SMAP : 0) |
		 (r->feat & F_PKE ? HYVM_CR4_PKE : 0) |
		 (r->feat & F_PSE ? HYVM_CR4_PSE : 0);
	m->efer = r->feat & F_NXE ? HYVM_EFER_NXE : 0;
	if (r->kind != K32)
		m->cr4 |= HYVM_CR4_PAE;
	if (r->kind == K4 || r->kind == K5)
		m->efer |= HYVM_EFER_LME | HYVM_EFER_LMA;
	if (r->kind == K5)
		m->cr4 |= HYVM_CR4_LA57;
	m->ac = r->feat & F_AC;
	m->pkru = r->pkru;
	m->maxphyaddr = r->maxpa ? r->maxpa : 46;
	m->cr3 = r->kind == KPAE ? 0x1000 + 0x40 : 0x1000;
}

static void test_rules(void **state)
{
	static u8 bytes[FAKE_PAGES * 4096];
	struct fake_mem fm = { .bytes = bytes, .npages = FAKE_PAGES };
	struct hyvm_gmem_ops ops = fake_ops(&fm);
	unsigned int i, failures = 0;

	for (i = 0; i < ARRAY_SIZE(rules); i++) {
		const struct rule *r = &rules[i];
		struct hyvm_paging_mode m;
		struct hyvm_walk w;
		int levels = r->kind == K32 ? 2 : r->kind == KPAE ? 3 :
			     r->kind == K4 ? 4 : 5;
		int large = r->large ? r->large : 1;
		unsigned int es = r->kind == K32 ? 4 : 8;
		u64 va = r->va ? r->va : std_va(r->kind);
		u64 gpa_of[6] = { 0 }, before[6] = { 0 }, expect_gpa;
		int lvl, st;
		bool ok = true;

		memset(bytes, 0, sizeof(bytes));
		fm.fail_cmpxchg = 0;
		setup_mode(r, &m);
		if (large == 1)
			expect_gpa = DATA_GPA_4K | (va & 0xfff);
		else if (large == 2 && r->kind == K32)
			expect_gpa = DATA_GPA_4M | (va & 0x3fffff);
		else if (large == 2)
			expect_gpa = DATA_GPA_2M | (va & 0x1fffff);
		else
			expect_gpa = DATA_GPA_1G | (va & 0x3fffffff);

		for (lvl = levels; lvl >= large; lvl--) {
			u64 table = lvl == levels ? (m.cr3 & ~0xfffULL) :
				    (u64)(levels - lvl + 1) * 0x1000;
			unsigned int idx;
			u64 e;

			if (r->kind == K32)
				idx = (va >> (12 + 10 * (lvl - 1))) & 1023;
			else if (r->kind == KPAE && lvl == 3)
				idx = (va >> 30) & 3;
			else
				idx = (va >> (12 + 9 * (lvl - 1))) & 511;
			gpa_of[lvl] = (lvl == levels ? m.cr3 & ~31ULL : table) +
				      idx * es;
			if (lvl == large) {
				e = r->leaf | (large > 1 ? PS : 0) |
				    (large == 1 ? DATA_GPA_4K :
				     large == 3 ? DATA_GPA_1G :
				     r->kind == K32 ? DATA_GPA_4M : DATA_GPA_2M);
			} else {
				e = r->upper | (u64)(levels - lvl + 2) * 0x1000;
				if (r->kind == KPAE && lvl == 3)
					e &= ~(u64)(HYVM_PTE_W | HYVM_PTE_U);
			}
			if (lvl == r->lvl)
				e = (e | r->set) & ~r->clr;
			fake_set(&fm, gpa_of[lvl], e, es);
		}
		if (r->kind == KPAE)
			assert_int_equal(hyvm_walk_load_pdptrs(&ops, &m), 0);
		for (lvl = 1; lvl <= 5; lvl++)
			before[lvl] = gpa_of[lvl] ? fake_get(&fm, gpa_of[lvl], es) : 0;

		st = hyvm_walk(&ops, &m, va, r->access, &w);
		if (r->maxpa == 52)	/* bit 51 is an address bit there */
			expect_gpa |= r->leaf & GENMASK_ULL(51, 46);
		if (r->ec == OK) {
			ok = st == HYVM_WALK_OK && w.gpa == expect_gpa +
			     ((r->lvl == 2 && r->kind == K32 && (r->set & BIT_ULL(14))) ?
			      (1ULL << 33) : 0);
			/* A on every entry used, D on the leaf iff a write */
			for (lvl = levels; ok && lvl >= large; lvl--) {
				u64 e = fake_get(&fm, gpa_of[lvl], es);
				u64 want = before[lvl];

				if (!(r->kind == KPAE && lvl == 3)) {
					want |= HYVM_PTE_A;
					if (lvl == w.leaf_level &&
					    (r->access & HYVM_ACC_WRITE))
						want |= HYVM_PTE_D;
				}
				ok = e == want;
			}
		} else {
			if (r->ec == GP)
				ok = st == HYVM_WALK_GP;
			else if (r->ec == MEM)
				ok = st == HYVM_WALK_MEMERR;
			else
				ok = st == HYVM_WALK_PF && w.error_code == r->ec;
			/* a faulting access sets no flag */
			for (lvl = 1; ok && lvl <= 5; lvl++)
				ok = !gpa_of[lvl] ||
				     fake_get(&fm, gpa_of[lvl], es) == before[lvl];
		}
		if (!ok) {
			failures++;
			fprintf(stderr, "rule \"%s\": status %d ec %#x gpa %#llx (want ec %#lx gpa %#llx)\n",
				r->name, st, w.error_code,
				(unsigned long long)w.gpa, r->ec,
				(unsigned long long)expect_gpa);
		}
	}
	fprintf(stderr, "%u rules checked\n", i);
	assert_int_equal(failures, 0);
}

/* A/D update races with another vCPU clearing P: the walk restarts. */
static void test_ad_race(void **state)
{
	static u8 bytes[FAKE_PAGES * 4096];
	struct fake_mem fm = { .bytes = bytes, .npages = FAKE_PAGES };
	struct hyvm_gmem_ops ops = fake_ops(&fm);
	struct rule r = { "race", K4, 0, 0, PWU, PWU, 1, 0, 0, 0, 0, 0 };
	struct hyvm_paging_mode m;
	struct hyvm_walk w;
	u64 va = std_va(K4);

	memset(bytes, 0, sizeof(bytes));
	setup_mode(&r, &m);
	fake_set(&fm, 0x1000 + 3 * 8, PWU | 0x2000, 8);
	fake_set(&fm, 0x2000 + 5 * 8, PWU | 0x3000, 8);
	fake_set(&fm, 0x3000 + 7 * 8, PWU | 0x4000, 8);
	fake_set(&fm, 0x4000 + 9 * 8, PWU | DATA_GPA_4K, 8);

	/* The PML4E is replaced by a non-present one during the update. */
	fm.fail_cmpxchg = 1;
	fm.race_value = 0;
	assert_int_equal(hyvm_walk(&ops, &m, va, HYVM_ACC_WRITE, &w),
			 HYVM_WALK_PF);
	assert_int_equal(w.error_code, HYVM_PF_W);
	assert_int_equal(w.fault_level, 4);

	/* Replaced by an equivalent entry: the retry succeeds. */
	fake_set(&fm, 0x1000 + 3 * 8, PWU | 0x2000, 8);
	fm.fail_cmpxchg = 1;
	fm.race_value = PWU | 0x2000 | HYVM_PTE_PCD;
	assert_int_equal(hyvm_walk(&ops, &m, va, HYVM_ACC_WRITE, &w),
			 HYVM_WALK_OK);
	assert_int_equal(fake_get(&fm, 0x1000 + 3 * 8, 8),
			 PWU | 0x2000 | HYVM_PTE_PCD | HYVM_PTE_A);
	assert_int_equal(fake_get(&fm, 0x4000 + 9 * 8, 8),
			 PWU | DATA_GPA_4K | HYVM_PTE_A | HYVM_PTE_D);

	/* NO_AD probes leave memory alone. */
	fake_set(&fm, 0x4000 + 9 * 8, PWU | DATA_GPA_4K, 8);
	assert_int_equal(hyvm_walk(&ops, &m, va, HYVM_ACC_WRITE |
				   HYVM_ACC_NO_AD, &w), HYVM_WALK_OK);
	assert_int_equal(fake_get(&fm, 0x4000 + 9 * 8, 8), PWU | DATA_GPA_4K);
}

/* CR0.PG = 0: identity; PAE PDPTEs are those loaded, not memory's. */
static void test_unpaged_and_pdptr(void **state)
{
	static u8 bytes[FAKE_PAGES * 4096];
	struct fake_mem fm = { .bytes = bytes, .npages = FAKE_PAGES };
	struct hyvm_gmem_ops ops = fake_ops(&fm);
	struct rule r = { "pae", KPAE, 0, 0, PWU, PWU, 1, 0, 0, 0, 0, 0 };
	struct hyvm_paging_mode m;
	struct hyvm_walk w;
	u64 va = std_va(KPAE);

	memset(&m, 0, sizeof(m));
	m.maxphyaddr = 46;
	assert_int_equal(hyvm_walk(&ops, &m, 0x12345, HYVM_ACC_WRITE, &w),
			 HYVM_WALK_OK);
	assert_int_equal(w.gpa, 0x12345);

	memset(bytes, 0, sizeof(bytes));
	setup_mode(&r, &m);
	fake_set(&fm, 0x1040 + 2 * 8, P | 0x2000, 8);
	fake_set(&fm, 0x2000 + 7 * 8, PWU | 0x3000, 8);
	fake_set(&fm, 0x3000 + 9 * 8, PWU | DATA_GPA_4K, 8);
	assert_int_equal(hyvm_walk_load_pdptrs(&ops, &m), 0);
	fake_set(&fm, 0x1040 + 2 * 8, 0, 8);	/* not reloaded: no effect */
	assert_int_equal(hyvm_walk(&ops, &m, va, 0, &w), HYVM_WALK_OK);
	assert_int_equal(hyvm_walk_load_pdptrs(&ops, &m), 0);
	assert_int_equal(hyvm_walk(&ops, &m, va, 0, &w), HYVM_WALK_PF);
	assert_int_equal(w.error_code, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_ad_race),
		cmocka_unit_test(test_unpaged_and_pdptr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
