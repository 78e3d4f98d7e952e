// SPDX-License-Identifier: GPL-2.0
/*
 * svm without nested paging (npt=0): the guest runs on shadow page tables
 * built by virt/shadow through shadow_host.c, the paper's first-generation
 * hardware VMM.
 *
 * The guest's CR0, CR3, CR4 and EFER are virtual.  Every access to the
 * first three is intercepted and emulated, and the VMCB holds the real
 * values: CR0 with WP forced on, CR3 the shadow root, EFER with NXE forced
 * on (the shadow uses NX whatever the guest's NXE), as the hardware view
 * of virt/shadow expects.  Every guest #PF is intercepted: the shadow MMU
 * fills hidden faults, reflects true ones, and hands stores to traced
 * page tables to the emulator.  INVLPG runs natively: the shadow is kept
 * coherent by tracing, so the guest's TLB flush has nothing to add.
 *
 * Shadow tables are long-mode tables, so the hardware runs the guest only
 * in long mode with paging; before that (real mode, protected mode, the
 * way into long mode) the vCPU runs in the interpreter.
 */
#include <asm/svm.h>
#include "svm.h"
#include "../shadow_host.h"

#define SVM_SHADOW_EFER_FORCED	(EFER_NX | EFER_SVME)

void hyvm_svm_shadow_intercepts(struct vmcb_control_area *c)
{
	static const u32 bits[] = {
		INTERCEPT_CR0_READ, INTERCEPT_CR3_READ, INTERCEPT_CR4_READ,
		INTERCEPT_CR0_WRITE, INTERCEPT_CR3_WRITE, INTERCEPT_CR4_WRITE,
		INTERCEPT_EXCEPTION_OFFSET + PF_VECTOR,
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bits); i++)
		c->intercepts[bits[i] / 32] |= BIT(bits[i] % 32);
}

/* The guest writes EFER: keep its value, run with NXE (and SVME) on. */
void hyvm_svm_shadow_set_efer(struct hyvm_svm_vcpu *sv, u64 efer)
{
	sv->sh.efer = efer;
	sv->vmcb->save.efer = efer | SVM_SHADOW_EFER_FORCED;
}

/**
 * hyvm_svm_shadow_load - the guest's control registers into the VMCB
 * @sv: the vCPU
 * @sr: the guest's view of them
 *
 * The root comes later, from hyvm_svm_shadow_prepare().
 */
void hyvm_svm_shadow_load(struct hyvm_svm_vcpu *sv, const struct hyvm_sregs *sr)
{
	struct vmcb_save_area *s = &sv->vmcb->save;

	sv->sh.cr0 = sr->cr0;
	sv->sh.cr3 = sr->cr3;
	sv->sh.cr4 = sr->cr4;
	s->cr0 = sr->cr0 | X86_CR0_WP;
	s->cr4 = sr->cr4;
	s->cr3 = sv->sh.root;
	hyvm_svm_shadow_set_efer(sv, sr->efer & (HYVM_GUEST_EFER | EFER_LMA));
}

void hyvm_svm_shadow_store(struct hyvm_svm_vcpu *sv, struct hyvm_sregs *sr)
{
	sr->cr0 = sv->sh.cr0;
	sr->cr3 = sv->sh.cr3;
	sr->cr4 = sv->sh.cr4;
	sr->efer = sv->sh.efer;
}

/**
 * hyvm_svm_shadow_prepare - the shadow root for the next guest entry
 * @vcpu: the vCPU
 * @sv: its svm state, loaded
 *
 * Return: 0; -EOPNOTSUPP when the guest is not in long mode with paging
 * (the interpreter must run it); -ENOMEM.
 */
int hyvm_svm_shadow_prepare(struct hyvm_vcpu *vcpu, struct hyvm_svm_vcpu *sv)
{
	struct vmcb *vmcb = sv->vmcb;
	int ret;

	ret = hyvm_shost_hw_root(vcpu, &sv->sh, sv->emu.maxphyaddr);
	if (ret)
		return ret;
	if (vmcb->save.cr3 != sv->sh.root) {
		vmcb->save.cr3 = sv->sh.root;
		/* TLBs are not tagged by CR3. */
		sv->sh.flush = true;
		vmcb->control.clean = 0;
	}
	return 0;
}
