/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hyvm guest page-table walker: the x86 paging rules as hardware applies
 * them, over guest physical memory reached through callbacks.
 */
#ifndef HYVM_SHADOW_WALK_H
#define HYVM_SHADOW_WALK_H

#include "portable.h"

/* Control-register bits the walker depends on (own names: no clash). */
#define HYVM_CR0_PE		BIT_ULL(0)
#define HYVM_CR0_WP		BIT_ULL(16)
#define HYVM_CR0_PG		BIT_ULL(31)
#define HYVM_CR4_PSE		BIT_ULL(4)
#define HYVM_CR4_PAE		BIT_ULL(5)
#define HYVM_CR4_LA57		BIT_ULL(12)
#define HYVM_CR4_PCIDE		BIT_ULL(17)
#define HYVM_CR4_SMEP		BIT_ULL(20)
#define HYVM_CR4_SMAP		BIT_ULL(21)
#define HYVM_CR4_PKE		BIT_ULL(22)
#define HYVM_EFER_LME		BIT_ULL(8)
#define HYVM_EFER_LMA		BIT_ULL(10)
#define HYVM_EFER_NXE		BIT_ULL(11)
#define HYVM_CR3_NOFLUSH	BIT_ULL(63)

/* Page-table entry bits (same positions in 32-bit, PAE and long mode). */
#define HYVM_PTE_P		BIT_ULL(0)
#define HYVM_PTE_W		BIT_ULL(1)
#define HYVM_PTE_U		BIT_ULL(2)
#define HYVM_PTE_PWT		BIT_ULL(3)
#define HYVM_PTE_PCD		BIT_ULL(4)
#define HYVM_PTE_A		BIT_ULL(5)
#define HYVM_PTE_D		BIT_ULL(6)
#define HYVM_PTE_PS		BIT_ULL(7)
#define HYVM_PTE_NX		BIT_ULL(63)
#define HYVM_PTE_PKEY_SHIFT	59
#define HYVM_PTE_PKEY_MASK	GENMASK_ULL(62, 59)

/* #PF error code bits. */
#define HYVM_PF_P		BIT(0)
#define HYVM_PF_W		BIT(1)
#define HYVM_PF_U		BIT(2)
#define HYVM_PF_RSVD		BIT(3)
#define HYVM_PF_ID		BIT(4)
#define HYVM_PF_PK		BIT(5)

/*
 * Access flags.  WRITE, USER and FETCH sit on the error-code bits they
 * produce.  USER means an explicit access at CPL3; a CPL3 implicit
 * supervisor access (GDT, IDT, TSS, ...) passes IMPLICIT and not USER.
 * NO_AD makes a probe that never sets accessed/dirty flags.
 */
#define HYVM_ACC_WRITE		HYVM_PF_W
#define HYVM_ACC_USER		HYVM_PF_U
#define HYVM_ACC_FETCH		HYVM_PF_ID
#define HYVM_ACC_IMPLICIT	BIT(8)
#define HYVM_ACC_NO_AD		BIT(9)

#define HYVM_MAX_LEVELS		5

enum hyvm_paging_kind {
	HYVM_PAGING_NONE,	/* CR0.PG = 0: linear = physical */
	HYVM_PAGING_32,		/* 2 levels, 4-byte entries, 4M pages with PSE */
	HYVM_PAGING_PAE,	/* 3 levels, PDPTEs loaded at CR3 write */
	HYVM_PAGING_4LVL,	/* long mode, 48-bit linear */
	HYVM_PAGING_5LVL,	/* long mode with LA57, 57-bit linear */
};

/**
 * struct hyvm_paging_mode - the vCPU state a translation depends on
 * @cr0: CR0 (PG, WP)
 * @cr3: CR3 (table address; PCID bits are ignored)
 * @cr4: CR4 (PSE, PAE, LA57, SMEP, SMAP, PKE)
 * @efer: EFER (LMA, NXE)
 * @pdptr: the four PAE PDPTEs as loaded at the last CR3 write (hardware
 *	does not re-read them from memory on each walk); see
 *	hyvm_walk_load_pdptrs().
 * @pkru: PKRU
 * @ac: EFLAGS.AC, which lifts SMAP for explicit supervisor accesses.
 * @maxphyaddr: physical-address width; bits above it are reserved.
 */
struct hyvm_paging_mode {
	u64 cr0, cr3, cr4, efer;
	u64 pdptr[4];
	u32 pkru;
	bool ac;
	u8 maxphyaddr;
};

/**
 * struct hyvm_gmem_ops - guest physical memory
 * @read: copy @len bytes at @gpa; negative errno if not backed.
 * @write: store @len bytes at @gpa; negative errno if not backed.
 * @cmpxchg_gpa: atomically replace the @size-byte (4 or 8) value at @gpa by
 *	@new if it equals @old.  Returns 0 when done, -EAGAIN when the value
 *	differed, another negative errno when not backed.  Used for A/D
 *	updates, which hardware performs as locked operations.
 * @opaque: passed to every callback.
 */
struct hyvm_gmem_ops {
	int (*read)(void *opaque, u64 gpa, void *buf, unsigned int len);
	int (*write)(void *opaque, u64 gpa, const void *buf, unsigned int len);
	int (*cmpxchg_gpa)(void *opaque, u64 gpa, u64 old, u64 new,
		       unsigned int size);
	void *opaque;
};

enum hyvm_walk_status {
	HYVM_WALK_OK,		/* translated: @gpa is valid */
	HYVM_WALK_PF,		/* #PF with @error_code, CR2 = the address */
	HYVM_WALK_GP,		/* non-canonical address: #GP (or #SS) */
	HYVM_WALK_MEMERR,	/* a paging structure is not backed */
};

/**
 * struct hyvm_walk - result of one walk
 * @status: outcome
 * @error_code: #PF error code when @status is %HYVM_WALK_PF
 * @gva: the linear address (truncated to 32 bits without long mode)
 * @gpa: the physical address when @status is %HYVM_WALK_OK
 * @levels: paging levels of the mode
 * @leaf_level: level of the entry that mapped the page
 * @fault_level: level of the entry that faulted (not present, reserved
 *	bits, or the leaf for access rights)
 * @pte_size: 4 (32-bit paging) or 8
 * @kind: paging kind of the walk
 * @eff_user: U/S set at every level: a user-mode address
 * @eff_write: R/W set at every level
 * @eff_nx: XD set at some level (with EFER.NXE)
 * @pkey: protection key of the leaf (long mode)
 * @pte: the entries read, by level
 * @pte_gpa: their guest physical addresses
 *
 * The per-level arrays are indexed by level (1 = the 4 KiB table) and are
 * valid from @levels down to @leaf_level, or down to the level that
 * faulted.  For PAE, level 3 is the PDPTE register.
 */
struct hyvm_walk {
	enum hyvm_walk_status status;
	u32 error_code;
	u64 gva, gpa;
	u8 levels, leaf_level, fault_level, pte_size;
	enum hyvm_paging_kind kind;
	bool eff_user, eff_write, eff_nx;
	u8 pkey;
	u64 pte[HYVM_MAX_LEVELS + 1];
	u64 pte_gpa[HYVM_MAX_LEVELS + 1];
};

enum hyvm_paging_kind hyvm_paging_kind(const struct hyvm_paging_mode *m);
int hyvm_walk_load_pdptrs(const struct hyvm_gmem_ops *mem,
			  struct hyvm_paging_mode *m);
enum hyvm_walk_status hyvm_walk(const struct hyvm_gmem_ops *mem,
				const struct hyvm_paging_mode *m, u64 gva,
				u32 access, struct hyvm_walk *w);
u64 hyvm_walk_rsvd_mask(const struct hyvm_paging_mode *m,
			enum hyvm_paging_kind kind, int level, bool large);
u64 hyvm_walk_addr_mask(const struct hyvm_paging_mode *m,
			enum hyvm_paging_kind kind);

#endif /* HYVM_SHADOW_WALK_H */
