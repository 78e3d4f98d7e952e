/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The shadow MMU's kernel side (shadow_host.c): guest frames pinned from
 * the VM creator's memory, shadow tables from the page allocator, TLB
 * flushes before anything is reused, the per-VM cap, counters and
 * tracepoints around the portable core in virt/shadow/.
 */
#ifndef HYVM_SHADOW_HOST_H
#define HYVM_SHADOW_HOST_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/xarray.h>
#include "hyvm.h"
#include "interp.h"
#include "shadow/shadow.h"

/**
 * struct hyvm_shost - one VM's shadow MMU
 * @lock: serialises every call into the core for this VM
 * @vm: the VM
 * @sh: the core's state
 * @pins: guest frame number -> pinned struct page
 * @pinned: pages in @pins (charged to the creator's pinned_vm)
 * @tables: shadow tables allocated and not yet given back
 * @zombies: tables the core freed, kept until every TLB was flushed
 * @flushes: TLB flushes of all vCPUs asked for
 * @code_written: the engine's hook for emulated stores to code frames
 */
struct hyvm_shost {
	struct mutex lock;
	struct hyvm_vm *vm;
	struct hyvm_shadow_vm sh;
	struct xarray pins;
	unsigned long pinned;
	unsigned long tables;
	struct list_head zombies;
	u64 flushes;
	void (*code_written)(struct hyvm_vm *vm, u64 gfn);
};

/**
 * struct hyvm_shost_vcpu - a hardware engine's vCPU on shadow tables
 * @v: the core's per-vCPU state
 * @cr0: CR0 as the guest sees it (the hardware runs with others)
 * @cr3: CR3 as the guest sees it (the hardware runs on @root)
 * @cr4: CR4 as the guest sees it
 * @efer: EFER as the guest sees it (the hardware has NXE forced on)
 * @root: the shadow root last loaded
 * @flush: the vCPU's guest TLB must go at the next entry
 * @interp: what ran in the interpreter before the hardware could run it
 *
 * svm with npt=0 and vmx with ept=0 keep the guest's own control
 * registers here and the hardware's in their VMCB or VMCS.
 */
struct hyvm_shost_vcpu {
	struct hyvm_shadow_vcpu v;
	u64 cr0, cr3, cr4, efer;
	u64 root;
	bool flush;
	struct hyvm_interp_stat interp;
};

extern atomic_long_t hyvm_shadow_live_tables, hyvm_shadow_live_pins;

int hyvm_shost_init(struct hyvm_vm *vm);
void hyvm_shost_destroy(struct hyvm_vm *vm);
void hyvm_shost_vcpu_init(struct hyvm_vcpu *vcpu, struct hyvm_shadow_vcpu *v);
void hyvm_shost_vcpu_destroy(struct hyvm_vcpu *vcpu,
			     struct hyvm_shadow_vcpu *v);
void hyvm_shost_vcpu_init_bt(struct hyvm_vcpu *vcpu,
			     struct hyvm_shadow_vcpu *v);
int hyvm_shost_set_fixed(struct hyvm_vm *vm, u32 first, u32 n,
			 const u64 *sptes);
int hyvm_shost_set_fixed_kernel(struct hyvm_vm *vm, u32 slot, u64 spte);
int hyvm_shost_root_view(struct hyvm_vcpu *vcpu, struct hyvm_shadow_vcpu *v,
			 const struct hyvm_paging_mode *m,
			 enum hyvm_shadow_view view, u64 *root_hpa);
int hyvm_shost_root(struct hyvm_vcpu *vcpu, struct hyvm_shadow_vcpu *v,
		    const struct hyvm_paging_mode *m, u64 *root_hpa);
enum hyvm_shadow_result hyvm_shost_page_fault(struct hyvm_vcpu *vcpu,
					      struct hyvm_shadow_vcpu *v,
					      u8 cpl, bool ac, u64 gva,
					      u32 access,
					      struct hyvm_shadow_fault *out);
void hyvm_shost_invlpg(struct hyvm_vcpu *vcpu, struct hyvm_shadow_vcpu *v,
		       u64 gva);
int hyvm_shost_write(struct hyvm_vm *vm, u64 gpa, const void *buf,
		     unsigned int len);
u64 hyvm_shost_pt_changes(struct hyvm_vm *vm);
int hyvm_shost_protect_code(struct hyvm_vm *vm, u64 gfn);
void hyvm_shost_unprotect_code(struct hyvm_vm *vm, u64 gfn);
void hyvm_shost_set_code_hook(struct hyvm_vm *vm,
			      void (*fn)(struct hyvm_vm *vm, u64 gfn));
void hyvm_shost_slot_removed(struct hyvm_vm *vm, u64 base_gfn, u64 npages);
bool hyvm_shost_hw_can_run(const struct x86_emu *e);
int hyvm_shost_hw_root(struct hyvm_vcpu *vcpu, struct hyvm_shost_vcpu *sh,
		       u8 maxphyaddr);
void hyvm_shost_stats_show(struct hyvm_vm *vm, struct seq_file *m);

#endif
