/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hyvm shadow MMU: shadow page tables built lazily from guest page tables.
 *
 * Locking: none inside.  The caller serialises every call on one VM (the
 * kernel glue holds the VM's MMU lock); callbacks are made with it held.
 */
#ifndef HYVM_SHADOW_SHADOW_H
#define HYVM_SHADOW_SHADOW_H

#include "portable.h"
#include "walk.h"

struct hyvm_sp;
struct hyvm_rmap_head;
struct hyvm_code_page;
struct hyvm_shadow_fault;

/**
 * struct hyvm_shadow_host_ops - what the host provides
 * @gfn_to_hpfn: host frame backing guest frame @gfn; negative errno when
 *	the frame is not guest RAM (MMIO or a hole).  The frame must stay
 *	valid until hyvm_shadow_zap_gfn() is called for @gfn (pinning, or an
 *	MMU notifier that calls it).
 * @alloc_table: allocate a zeroed 4 KiB shadow table; return its kernel
 *	pointer and store its host frame number in @hpfn; NULL on failure.
 * @free_table: free a table returned by @alloc_table.  A CPU may still
 *	cache entries of a table freed while @tlb_dirty is set: the glue
 *	must not reuse its memory before it has flushed every TLB.
 * @trace_fault: optional (may be NULL): called after every
 *	hyvm_shadow_page_fault() with its arguments and outcome (@result is
 *	an enum hyvm_shadow_result), for the glue's tracepoints.
 * @trace_write: optional: called after every hyvm_shadow_traced_write()
 *	with the number of shadow entries it zapped.
 * @opaque: passed to every callback.
 */
struct hyvm_shadow_host_ops {
	int (*gfn_to_hpfn)(void *opaque, u64 gfn, u64 *hpfn);
	void *(*alloc_table)(void *opaque, u64 *hpfn);
	void (*free_table)(void *opaque, void *table, u64 hpfn);
	void (*trace_fault)(void *opaque, u64 gva, u32 access, int result,
			    const struct hyvm_shadow_fault *fault);
	void (*trace_write)(void *opaque, u64 gpa, u64 value,
			    unsigned int size, u64 zapped);
	void *opaque;
};

/*
 * struct hyvm_shadow_stats - counters the kernel glue exposes in debugfs
 */
struct hyvm_shadow_stats {
	u64 hidden_faults;	/* filled silently */
	u64 true_faults;	/* reflected to the guest */
	u64 emulations;		/* handed to the emulator (traced writes, ...) */
	u64 mmio_faults;	/* guest mapping to a non-RAM frame */
	u64 traced_writes;	/* hyvm_shadow_traced_write() calls */
	u64 shadow_pages;	/* live shadow tables */
	u64 shadow_pages_max;	/* high-water mark */
	u64 sp_created;
	u64 zaps;		/* shadow entries zapped */
	u64 sp_zapped;		/* shadow pages freed by zap or reclaim */
	u64 unshadows;		/* pages unshadowed for write flooding */
	u64 reclaims;		/* shadow pages reclaimed by the cap */
	u64 root_cache_hits;
	u64 root_cache_misses;
	u64 invlpgs;
	u64 cr3_writes;
	u64 code_protects;	/* frames newly code-protected */
	u64 code_write_faults;	/* HYVM_SHADOW_CODE_WRITE results */
	u64 meta_objects;	/* live metadata allocations (0 after teardown) */
};

/*
 * What a shadow root serves.  bt has two roots per CR3, one per guest
 * privilege; vmx and svm without EPT/NPT run the guest at its own CPL on
 * one root (long-mode guests only: the shadow is in long-mode format).
 */
enum hyvm_shadow_view {
	HYVM_VIEW_KERNEL,	/* bt: guest CPL0-2, run at real CPL3 */
	HYVM_VIEW_USER,		/* bt: guest CPL3 */
	HYVM_VIEW_HW,		/* vmx/svm: guest at its CPL, CR0.WP forced */
	HYVM_NR_VIEWS,
};

/**
 * struct hyvm_sp_role - what a shadow page's contents depend on besides
 *	the guest table it shadows
 * @level: shadow level, 1 = 4 KiB leaves
 * @kind: guest paging kind
 * @quadrant: which part of a 1024-entry 32-bit guest table
 * @access: W/U/NX allowed by the guest's upper levels (HYVM_SP_ACC_*)
 * @view: kernel or user view
 * @direct: maps a guest large page (no guest table behind it)
 * @synthetic: an upper level with no guest table (PAE, 32-bit)
 * @wp: CR0.WP (kernel and hw views)
 * @smap: kernel view: SMAP enforced, i.e. CR4.SMAP && !EFLAGS.AC;
 *	hw view: CR4.SMAP (the CPU applies EFLAGS.AC itself)
 * @smep: CR4.SMEP (hw view)
 * @pke: protection keys in force (long mode && CR4.PKE)
 * @nxe: EFER.NXE
 * @dirty: the guest large page is dirty (direct pages: leaves may be
 *	writable)
 * @pkey: protection key of the guest large page (direct pages)
 * @pse: CR4.PSE (32-bit paging: whether PS maps 4M pages)
 * @pkru: PKRU, kernel view with @pke only (keys are enforced by the
 *	shadow there, by the CPU in the user view)
 */
struct hyvm_sp_role {
	u8 level, kind, quadrant, access;
	u8 view, direct, synthetic, wp, smap, smep, pke, nxe, pse, dirty, pkey;
	u32 pkru;
};

#define HYVM_SP_ACC_W	BIT(0)
#define HYVM_SP_ACC_U	BIT(1)
#define HYVM_SP_ACC_X	BIT(2)
#define HYVM_SP_ACC_ALL	(HYVM_SP_ACC_W | HYVM_SP_ACC_U | HYVM_SP_ACC_X)

#define HYVM_SHADOW_HASH_BITS	10
#define HYVM_SHADOW_ROOT_CACHE	4
#define HYVM_SHADOW_FIXED_MAX	16

struct hyvm_list {
	struct hyvm_list *prev, *next;
};

struct hyvm_shadow_vm {
	struct hyvm_shadow_host_ops host;
	struct hyvm_gmem_ops mem;
	struct hyvm_sp *hash[1 << HYVM_SHADOW_HASH_BITS];
	struct hyvm_rmap_head *rmap[1 << HYVM_SHADOW_HASH_BITS];
	/* frames no leaf may map writable: translated code (bt) */
	struct hyvm_code_page *code[1 << HYVM_SHADOW_HASH_BITS];
	struct hyvm_list lru;		/* most recently used first */
	u64 max_pages;			/* cap; 0 = none */
	u32 flood_threshold;		/* traced writes before unshadow */
	/*
	 * Set whenever a present shadow entry was removed or lost rights:
	 * a TLB or paging-structure cache may still hold it.  The glue
	 * flushes every vCPU's TLB (and only then frees tables it was given
	 * back or unpins frames) and clears the flag.
	 */
	bool tlb_dirty;
	struct hyvm_shadow_stats stats;
	/*
	 * bt: top-level entries the monitor owns in every 4-level root of
	 * the kernel and user views (its VMM region), set once by
	 * hyvm_shadow_set_fixed() before the first root exists.
	 */
	u32 fixed_first, fixed_n;
	u64 fixed[HYVM_SHADOW_FIXED_MAX];
	/* Fixed entries (bit i: fixed[i]) left out of user-view roots. */
	u32 fixed_kernel_only;
};

struct hyvm_root_slot {
	struct hyvm_sp *sp;
	u64 key;			/* guest CR3 key */
};

struct hyvm_shadow_vcpu {
	struct hyvm_shadow_vm *vm;
	struct hyvm_paging_mode mode;
	u8 cpl;
	bool hw_view;			/* vmx/svm: always HYVM_VIEW_HW */
	u8 shadow_levels;		/* 4, or 5 for LA57 guests */
	struct hyvm_root_slot cur[HYVM_NR_VIEWS];
	/* Recently used roots, MRU first; each holds a pin on its page. */
	struct hyvm_root_slot cache[HYVM_SHADOW_ROOT_CACHE];
};

enum hyvm_shadow_result {
	HYVM_SHADOW_RETRY,	/* hidden fault filled: re-execute */
	HYVM_SHADOW_GUEST_PF,	/* true fault: inject #PF(error_code), CR2 */
	HYVM_SHADOW_GUEST_GP,	/* non-canonical: inject #GP */
	HYVM_SHADOW_EMULATE,	/* allowed but not mappable: emulate at gpa */
	HYVM_SHADOW_MMIO,	/* guest mapping to a non-RAM frame at gpa */
	HYVM_SHADOW_ERROR,	/* memory error or allocation failure */
	HYVM_SHADOW_FIXED,	/* the guest maps the monitor's fixed range */
	HYVM_SHADOW_CODE_WRITE,	/* allowed store to a code-protected frame */
};

/**
 * struct hyvm_shadow_fault - outcome of hyvm_shadow_page_fault()
 * @error_code: #PF error code to inject for %HYVM_SHADOW_GUEST_PF
 * @cr2: the CR2 value to inject with it
 * @gpa: guest physical address for %HYVM_SHADOW_EMULATE, _MMIO and
 *	_CODE_WRITE
 * @traced: EMULATE because the target is a shadowed guest page table;
 *	after emulating the store, call hyvm_shadow_traced_write()
 * @code: the store's frame is code-protected: always with
 *	%HYVM_SHADOW_CODE_WRITE, and with @traced when the frame is also a
 *	traced page table, so the emulated store changes translated code
 * @err: negative errno for %HYVM_SHADOW_ERROR
 */
struct hyvm_shadow_fault {
	u32 error_code;
	u64 cr2, gpa;
	bool traced;
	bool code;
	int err;
};

int hyvm_shadow_vm_init(struct hyvm_shadow_vm *vm,
			const struct hyvm_shadow_host_ops *host,
			const struct hyvm_gmem_ops *mem, u64 max_pages);
void hyvm_shadow_vm_destroy(struct hyvm_shadow_vm *vm);
int hyvm_shadow_set_fixed(struct hyvm_shadow_vm *vm, u32 first, u32 n,
			  const u64 *sptes);
int hyvm_shadow_set_fixed_kernel(struct hyvm_shadow_vm *vm, u32 slot,
				 u64 spte);

void hyvm_shadow_vcpu_init(struct hyvm_shadow_vcpu *v, struct hyvm_shadow_vm *vm);
void hyvm_shadow_vcpu_destroy(struct hyvm_shadow_vcpu *v);
int hyvm_shadow_set_mode(struct hyvm_shadow_vcpu *v,
			 const struct hyvm_paging_mode *mode, u8 cpl);
int hyvm_shadow_write_cr3(struct hyvm_shadow_vcpu *v, u64 cr3);
int hyvm_shadow_root(struct hyvm_shadow_vcpu *v, enum hyvm_shadow_view view,
		     u64 *root_hpa);
enum hyvm_shadow_view hyvm_shadow_cur_view(const struct hyvm_shadow_vcpu *v);

enum hyvm_shadow_result hyvm_shadow_page_fault(struct hyvm_shadow_vcpu *v,
					       u64 gva, u32 access,
					       struct hyvm_shadow_fault *out);
void hyvm_shadow_invlpg(struct hyvm_shadow_vcpu *v, u64 gva);
int hyvm_shadow_traced_write(struct hyvm_shadow_vm *vm, u64 gpa, u64 value,
			     unsigned int size);
bool hyvm_shadow_gfn_traced(struct hyvm_shadow_vm *vm, u64 gfn);
void hyvm_shadow_zap_gfn(struct hyvm_shadow_vm *vm, u64 gfn);
void hyvm_shadow_zap_all(struct hyvm_shadow_vm *vm);
int hyvm_shadow_protect_code(struct hyvm_shadow_vm *vm, u64 gfn);
void hyvm_shadow_unprotect_code(struct hyvm_shadow_vm *vm, u64 gfn);
bool hyvm_shadow_code_protected(const struct hyvm_shadow_vm *vm, u64 gfn);

/* Internal, shared by the files of virt/shadow/. */
struct hyvm_sptep {
	struct hyvm_sp *sp;
	u32 idx;
};

struct hyvm_ref_list {
	struct hyvm_sptep *v;
	u32 n, cap;
};

struct hyvm_rmap_head {
	struct hyvm_rmap_head *next;
	u64 gfn;
	struct hyvm_ref_list refs;
};

struct hyvm_sp {
	struct hyvm_list lru;
	struct hyvm_sp *hnext;
	u64 gfn;			/* guest table, large-page base or key */
	struct hyvm_sp_role role;
	u64 *spt;			/* the 512 shadow entries */
	u64 hpfn;			/* host frame of @spt */
	/* level > 1: child page of each entry; level 1: gfn of each entry */
	void *aux;
	struct hyvm_ref_list parents;	/* entries that point at this page */
	u32 pin;			/* roots in use, fault path in progress */
	u32 flood;			/* traced writes since last use */
	bool hashed;
};

void *hyvm_shadow_meta_alloc(struct hyvm_shadow_vm *vm, size_t size);
void hyvm_shadow_meta_free(struct hyvm_shadow_vm *vm, void *p);
int hyvm_ref_add(struct hyvm_shadow_vm *vm, struct hyvm_ref_list *l,
		 struct hyvm_sp *sp, u32 idx);
void hyvm_ref_del(struct hyvm_shadow_vm *vm, struct hyvm_ref_list *l,
		  struct hyvm_sp *sp, u32 idx);
void hyvm_ref_free(struct hyvm_shadow_vm *vm, struct hyvm_ref_list *l);
int hyvm_rmap_add(struct hyvm_shadow_vm *vm, u64 gfn, struct hyvm_sp *sp,
		  u32 idx);
void hyvm_rmap_del(struct hyvm_shadow_vm *vm, u64 gfn, struct hyvm_sp *sp,
		   u32 idx);
struct hyvm_rmap_head *hyvm_rmap_find(struct hyvm_shadow_vm *vm, u64 gfn);
u32 hyvm_shadow_hash(u64 gfn);
void hyvm_shadow_wrprot_gfn(struct hyvm_shadow_vm *vm, u64 gfn);
void hyvm_code_free_all(struct hyvm_shadow_vm *vm);

#endif /* HYVM_SHADOW_SHADOW_H */
