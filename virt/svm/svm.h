/* SPDX-License-Identifier: GPL-2.0 */
/*
 * svm engine internals: per-CPU SVM state, per-VM nested page table,
 * per-vCPU VMCB.
 */
#ifndef HYVM_SVM_SVM_H
#define HYVM_SVM_SVM_H

#include <linux/mutex.h>
#include <linux/types.h>
#include <asm/fpu/api.h>
#include <asm/fpu/types.h>
#include <asm/svm.h>
#include "../hyvm.h"
#include "../exit.h"
#include "../emu_env.h"
#include "../tdp.h"
#include "../interp.h"
#include "../shadow_host.h"

/* EFER bits a guest may write; SVME is forced on and hidden. */
#define HYVM_GUEST_EFER	(EFER_SCE | EFER_LME | EFER_NX | EFER_FFXSR)

/*
 * Guest registers that the VMCB does not hold (RAX, RSP, RIP and RFLAGS
 * live in its save area).  The order is fixed: arch-x86/svm_vmrun.S uses
 * the offsets.
 */
struct hyvm_svm_gprs {
	u64 rbx, rcx, rdx, rsi, rdi, rbp;
	u64 r8, r9, r10, r11, r12, r13, r14, r15;
};

/* arch-x86/svm_vmrun.S */
void hyvm_svm_vmrun(u64 vmcb_pa, u64 host_pa, struct hyvm_svm_gprs *gprs);

struct hyvm_svm_vm {
	bool npt;			/* two-dimensional paging, else shadow */
	struct hyvm_npt npt_tables;
};

struct hyvm_svm_vcpu {
	struct vmcb *vmcb;
	u64 vmcb_pa;
	struct hyvm_svm_gprs gprs;
	struct fpu_guest fpu;
	struct hyvm_msr_state msrs;

	/* ASID: valid on @asid_cpu while its generation is @asid_gen. */
	u32 asid;
	int asid_cpu;
	u64 asid_gen;

	/* An IN or INS waiting for its data from userspace. */
	bool io_in_pending;
	bool io_in_string;		/* INS: the data goes to ES:RDI */
	bool io_in_rep;
	u8 io_in_size;
	u8 io_in_asize;			/* address size of INS: 2, 4 or 8 */
	u64 io_in_next_rip;

	bool shutdown;			/* triple fault: the vCPU is dead */

	/*
	 * The guest's debug registers, virtual: every access is intercepted
	 * and no guest breakpoint is armed in the hardware.
	 */
	u64 dr[4], dr6, dr7;

	/* Instructions that touch MMIO are emulated (virt/emulate). */
	struct hyvm_emu_ctx emu;

	bool shadow;			/* no NPT: @sh is in use */
	struct hyvm_shost_vcpu sh;	/* the guest's CR0, CR3, CR4, EFER */
};

/* shadow.c */
void hyvm_svm_shadow_intercepts(struct vmcb_control_area *c);
void hyvm_svm_shadow_load(struct hyvm_svm_vcpu *sv,
			  const struct hyvm_sregs *sr);
void hyvm_svm_shadow_store(struct hyvm_svm_vcpu *sv, struct hyvm_sregs *sr);
void hyvm_svm_shadow_set_efer(struct hyvm_svm_vcpu *sv, u64 efer);
int hyvm_svm_shadow_prepare(struct hyvm_vcpu *vcpu, struct hyvm_svm_vcpu *sv);

#endif /* HYVM_SVM_SVM_H */
