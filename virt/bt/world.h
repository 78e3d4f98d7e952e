/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bt's guest world (world.c): the VMM region and the world switch that
 * runs guest user code directly at CPL3.
 */
#ifndef HYVM_BT_WORLD_H
#define HYVM_BT_WORLD_H

#include "../hyvm.h"
#include "../emulate/emulate.h"
#include "../../arch-x86/bt_world.h"

/* The VMM region: PML4 slot 256, 0xffff800000000000 up. */
#define BT_VMM_BASE		0xffff800000000000UL
#define BT_VMM_PML4_SLOT	256
#define BT_VMM_PML4_SLOTS	16

/* struct bt_world_exit.reason */
enum bt_world_reason {
	BT_WX_EXCEPTION,	/* vector 0-31 at CPL3, not NMI or #MC */
	BT_WX_INTERRUPT,	/* host interrupt, NMI or #MC: given to the host */
	BT_WX_SYSCALL,
	BT_WX_MONITOR_FAULT,	/* the monitor itself faulted: a bug */
	BT_WX_CCF,		/* a CCF left the translation cache */
	BT_WX_NR,
};

/**
 * struct bt_world_exit - why the guest world was left
 * @reason: enum bt_world_reason
 * @vector: the vector
 * @error: its error code
 * @cr2: CR2, for #PF
 */
struct bt_world_exit {
	u32 reason;
	u8 vector;
	u32 error;
	u64 cr2;
};

/**
 * struct bt_world_regs - the real registers of translated code
 * @gpr: general registers, x86 numbering
 * @rip: a TC address
 * @rflags: the real RFLAGS (arithmetic flags and DF are the guest's)
 */
struct bt_world_regs {
	u64 gpr[16];
	u64 rip, rflags;
};

/* Per VM: the tables of the VMM region. */
struct bt_world_vm {
	struct page *pdpt, *pd;
};

/*
 * Per vCPU: its block of the VMM region, its host page, the transition
 * tables (their own PDPT for the region, whose second GiB maps the host
 * page through @t_pd and @t_pt) and the GDT indices the guest's
 * selectors used at the last entry.  @audits and @audit_bad count the
 * checks of hyvm_bt_world_audit() and their findings; @entries paces
 * them (bt_world_audit).
 */
struct bt_world {
	struct page *pages[BTW_PAGES];
	struct page *pt, *t_top, *t_pml4, *w_pml5;
	struct page *host_page, *t_pdpt, *t_pd, *t_pt;
	unsigned long va;
	u64 t_vmm_pml4e;
	struct bt_world_data *data;
	struct bt_world_host *host;
	u64 *gdt;
	u16 gdt_idx[6];	/* CS, SS, DS, ES, FS, GS */
	u16 sel_in[6];
	u32 id;
	u64 entries, audits, audit_bad;
};

int hyvm_bt_world_vm_init(struct hyvm_vm *vm, struct bt_world_vm *wv);
void hyvm_bt_world_vm_destroy(struct bt_world_vm *wv);
int hyvm_bt_world_vcpu_init(struct bt_world_vm *wv, struct bt_world *w,
			    u32 id);
void hyvm_bt_world_vcpu_destroy(struct bt_world_vm *wv, struct bt_world *w);
bool hyvm_bt_world_can_run(const struct x86_emu *e);
void hyvm_bt_world_enter(struct hyvm_vcpu *vcpu, struct bt_world *w,
			 struct x86_emu *e, u64 root,
			 struct bt_world_exit *x);
void hyvm_bt_world_enter_tc(struct hyvm_vcpu *vcpu, struct bt_world *w,
			    struct x86_emu *e, u64 root,
			    struct bt_world_regs *r, u64 exit_stub,
			    struct bt_world_exit *x);
bool hyvm_bt_world_can_translate(const struct x86_emu *e);
const char *hyvm_bt_world_unavailable(void);
int hyvm_bt_world_audit(struct bt_world *w, u64 root);

#endif
