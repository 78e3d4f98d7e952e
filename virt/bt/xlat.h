/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The translator in the guest world (xlat.c): each vCPU's translation
 * cache, indirect lookup table and area in the VMM region, guest code
 * fetch, the code pages translations came from, and the exits of
 * translated code.
 */
#ifndef HYVM_BT_XLAT_H
#define HYVM_BT_XLAT_H

#include <linux/mutex.h>
#include <linux/seq_file.h>
#include "../hyvm.h"
#include "../emulate/emulate.h"
#include "tc.h"
#include "world.h"

/*
 * PML4 slot 257 of every kernel-view root (never of a user-view one): one
 * GiB per vCPU, user-accessible, since translated code runs at CPL3.
 */
#define BT_XLAT_PML4_SLOT	(BT_VMM_PML4_SLOT + 1)
#define BT_XLAT_BASE		(BT_VMM_BASE + (1UL << 39))
#define BT_XLAT_AREA_OFF	0UL		/* the area: RW, NX */
#define BT_XLAT_STUB_OFF	0x1000UL	/* the exit stub: ud2, RX */
#define BT_XLAT_HT_OFF		0x200000UL	/* the lookup table: RO, NX */
#define BT_XLAT_TC_OFF		0x400000UL	/* the cache: RX */
#define BT_XLAT_TC_SIZE		0x100000UL
#define BT_XLAT_MAX_TUS		2048
#define BT_XLAT_HT_BYTES	(BT_HT_SIZE * sizeof(struct bt_ht_entry))
#define BT_XLAT_MAX_CODE	1024

/*
 * Per VM: the slot's PDPT, the lock every cache of the VM is under, and
 * the vCPUs' translators (under the lock).
 */
struct bt_xlat_vm {
	struct page *pdpt;
	struct mutex lock;
	struct list_head xls;
};

/*
 * Adaptive translation: instructions that keep writing traced memory
 * (guest page tables) become callouts; see xlat.c.
 */
#define BT_ADAPT_SLOTS		64

/**
 * struct bt_adapt - one instruction adaptive translation watches
 * @rip: its guest RIP (0: a free slot)
 * @faults: trace faults it took in translated code
 * @innocent: callouts in a row that wrote no traced memory
 * @adapted: it is translated as a callout
 */
struct bt_adapt {
	u64 rip;
	u32 faults, innocent;
	bool adapted;
};

/* A guest page translations were made from: its linear page and frame. */
struct bt_code_page {
	u64 lpage, gfn;
};

/**
 * struct bt_xlat_stat - translated code's counters, per vCPU
 * @entries: world entries into the cache
 * @ccf_exits: exits through the exit stub, by enum bt_exit_reason
 * @faults: exceptions inside CCFs, by vector (0-31)
 * @pf_hidden: of those, #PFs the shadow filled silently
 * @pf_guest: #PFs delivered to the guest kernel
 * @pf_emulate: #PFs the interpreter finished (traced tables, MMIO)
 * @interrupts: host interrupts taken in translated code
 * @resumes: of those, in the middle of a guest instruction: resumed
 * @revalidations: code pages checked after a CR3, INVLPG or page-table
 *	change
 * @stale_pages: code pages found mapped elsewhere and invalidated
 * @code_writes: writes to translated code (pages invalidated)
 * @trace_faults: writes of translated code to traced memory (a #PF the
 *	interpreter finishes)
 * @adaptations: instructions retranslated as callouts
 * @unadaptations: adapted instructions found innocent, copied again
 */
struct bt_xlat_stat {
	u64 entries;
	u64 ccf_exits[BT_EXIT_NR];
	u64 faults[32];
	u64 pf_hidden, pf_guest, pf_emulate;
	u64 interrupts, resumes;
	u64 revalidations, stale_pages, code_writes;
	u64 trace_faults, adaptations, unadaptations;
};

/**
 * struct bt_xlat - one vCPU's translator state
 * @tc: its translation cache
 * @area: the area as the monitor reads it (CPL3 writes it: untrusted)
 * @base: the vCPU's GiB in slot 257
 * @node: in the VM's list
 * @regs: the real registers while a CCF is suspended mid-instruction
 * @in_tc: @regs hold a CCF's state that must be resumed
 * @reval: a protected frame was written: walk @code again before entry
 * @flush_pending: @code overflowed: flush the cache before entry
 * @last_fetch_page: the linear page whose way through the guest's tables
 *	was protected last (~0: none), so that fetching its next
 *	instruction need not protect it again
 * @code: the guest pages translated code came from
 * @nr_code: entries in @code
 * @seen_cr3: the guest CR3 @code was checked with
 * @seen_cr0: CR0, @seen_cr4: CR4, @seen_efer: EFER, the same
 * @adapt: instructions adaptive translation watches, by RIP hash
 * @callout_watch: the adapted instruction of the last callout, whose
 *	innocence is judged at the next entry
 * @callout_gen: hyvm_shost_pt_changes() before that callout
 * @pend: an exception to deliver once the xlat lock is dropped
 * @stat: counters
 */
struct bt_xlat {
	struct bt_tc tc;
	struct bt_vcpu_area *area;
	struct page *pd, *pt[3], *area_page, *stub_page;
	void *ht_buf, *tc_buf;
	u64 base;
	struct list_head node;
	struct bt_world_regs regs;
	bool in_tc, reval, flush_pending;
	u64 last_fetch_page;
	struct hyvm_vcpu *vcpu;
	struct x86_emu *e;
	u8 maxphyaddr;
	struct bt_code_page code[BT_XLAT_MAX_CODE];
	u32 nr_code;
	u64 seen_cr3, seen_cr0, seen_cr4, seen_efer;
	struct bt_adapt adapt[BT_ADAPT_SLOTS];
	struct bt_adapt *callout_watch;
	struct {
		u8 vector;
		bool has_error;
		u32 error;
		u64 cr2;
	} pend;
	u64 callout_gen;
	struct bt_xlat_stat stat;
};

int hyvm_bt_xlat_vm_init(struct hyvm_vm *vm, struct bt_xlat_vm *xv);
void hyvm_bt_xlat_vm_destroy(struct bt_xlat_vm *xv);
int hyvm_bt_xlat_vcpu_init(struct bt_xlat_vm *xv, struct bt_xlat *xl,
			   struct hyvm_vcpu *vcpu, struct x86_emu *e,
			   u8 maxphyaddr);
void hyvm_bt_xlat_vcpu_destroy(struct bt_xlat_vm *xv, struct bt_xlat *xl);
int hyvm_bt_xlat_revalidate(struct bt_xlat *xl);
void hyvm_bt_xlat_code_written(struct bt_xlat_vm *xv, struct hyvm_vm *vm,
			       u64 gfn, bool locked);
void hyvm_bt_xlat_slot_removed(struct bt_xlat_vm *xv, struct hyvm_vm *vm,
			       u64 base_gfn, u64 npages);
void hyvm_bt_xlat_flush(struct bt_xlat *xl);
struct bt_tu *hyvm_bt_xlat_get(struct bt_xlat *xl, u64 rip);
bool hyvm_bt_xlat_callout_at(void *opaque, u64 rip);
void hyvm_bt_xlat_trace_fault(struct bt_xlat *xl, u64 rip, struct bt_tu *tu);
void hyvm_bt_xlat_callout(struct bt_xlat *xl, u64 rip);
void hyvm_bt_xlat_judge(struct bt_xlat *xl);
void hyvm_bt_xlat_stats_show(struct bt_xlat *xl, struct seq_file *m);

static inline u64 bt_xlat_exit_stub(const struct bt_xlat *xl)
{
	return xl->base + BT_XLAT_STUB_OFF;
}

#endif
