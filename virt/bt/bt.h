/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HYVM_BT_BT_H
#define HYVM_BT_BT_H

#include <asm/fpu/types.h>
#include "../hyvm.h"
#include "../interp.h"
#include "../shadow/shadow.h"
#include "world.h"
#include "xlat.h"

/* Guest-world counters, shown in debugfs as bt_world_<name>. */
struct hyvm_bt_world_stat {
	u64 entries;		/* entries into the guest world */
	u64 exit_interrupt;	/* host interrupt, NMI or #MC */
	u64 exit_syscall;	/* SYSCALL, run by the interpreter */
	u64 exit_pf;		/* #PF on the user view */
	u64 exit_exception;	/* other exceptions */
	u64 exit_monitor_fault;	/* the monitor faulted (a bug) */
	u64 pf_hidden;		/* filled by the shadow MMU, re-entered */
	u64 pf_guest;		/* delivered to the guest kernel */
	u64 pf_emulate;		/* the access left to the interpreter */
};

/**
 * struct hyvm_bt_vcpu - the bt engine's per-vCPU state
 * @emu: the interpreter's emulation context (registers are loaded from
 *	and stored to struct hyvm_vcpu on every HYVM_RUN)
 * @stat: counters, shown in debugfs as bt_<name>
 * @direct: the vCPU has a guest world (world.c)
 * @user: guest user code runs directly there (the CPU has UMIP)
 * @sh: shadow MMU state (direct only)
 * @world: the vCPU's block of the VMM region (direct only)
 * @fpu: the guest's FPU state (direct only)
 * @wstat: guest-world counters
 * @xv: the VM's translation-cache slot (translation on only)
 * @xl: the vCPU's translator (translation on only)
 * @pf_cr2: CR2 of the last hidden fault of guest user code
 * @pf_rip: its RIP
 * @pf_repeats: how often in a row it came back
 * @linger: instructions the interpreter still keeps the vCPU for
 *	(hyvm_bt_linger())
 * @linger_watch: the instruction being interpreted may arm @linger
 * @linger_gen: hyvm_shost_pt_changes() when last looked at
 */
struct hyvm_bt_vcpu {
	struct hyvm_emu_ctx emu;
	struct hyvm_interp_stat stat;
	bool direct, user;
	struct hyvm_shadow_vcpu sh;
	struct bt_world world;
	struct fpu_guest fpu;
	struct hyvm_bt_world_stat wstat;
	struct bt_xlat_vm *xv;
	struct bt_xlat *xl;
	u64 pf_cr2, pf_rip;
	u32 pf_repeats;
	u32 linger;
	bool linger_watch;
	u64 linger_gen;
};

void hyvm_bt_linger(struct hyvm_bt_vcpu *bt);

int hyvm_bt_run_tc(struct hyvm_vcpu *vcpu, struct hyvm_bt_vcpu *bt);

#endif
