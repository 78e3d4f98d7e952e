// SPDX-License-Identifier: GPL-2.0
/*
 * vmx without EPT (ept=0, or a CPU without usable EPT): the guest runs on
 * shadow page tables built by virt/shadow through shadow_host.c, the
 * paper's first-generation hardware VMM.  No unrestricted guest either
 * (it requires EPT); VPIDs are kept.
 *
 * The guest's CR0, CR3, CR4 and EFER are virtual.  The CR0 and CR4
 * guest/host masks give the host every bit that changes the shadow's role
 * (PE, PG and WP; all of CR4), the read shadows give the guest its own
 * values, and CR3 loads and stores exit; vmx.c hands those exits to the
 * emulator.  The VMCS holds the real values: CR0 with WP forced on, CR3
 * the shadow root, EFER with NXE forced on (the shadow uses NX whatever
 * the guest's NXE), as the hardware view of virt/shadow expects.  Every
 * guest #PF exits (exception bitmap, error-code mask and match 0): the
 * shadow MMU fills hidden faults, reflects true ones, and hands stores to
 * traced page tables to the emulator.  INVLPG runs natively: the shadow
 * is kept coherent by write tracing.
 *
 * Shadow tables are long-mode tables, so the hardware runs the guest only
 * in long mode with paging; before that vmx.c runs it in the interpreter.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": vmx: " fmt

#include <asm/trapnr.h>
#include <asm/vmx.h>
#include "vmx.h"

/* The guest writes EFER: keep its value, run with NXE on. */
void hyvm_vmx_shadow_set_efer(struct hyvm_vmx_vcpu *vx, u64 efer)
{
	vx->sh.efer = efer;
	hyvm_vmx_set_efer(efer | EFER_NX);
}

/**
 * hyvm_vmx_shadow_load - the guest's paging registers into the VMCS
 * @vx: the vCPU, its VMCS current
 * @sr: the guest's view of them
 *
 * CR0 and CR4 and their read shadows are vmx.c's (with WP forced on in
 * the hardware's CR0); here the values the shadow root depends on are
 * kept, the last root goes into GUEST_CR3 (hyvm_vmx_shadow_tlb() puts
 * the right one there before the entry) and EFER gets NXE.
 */
void hyvm_vmx_shadow_load(struct hyvm_vmx_vcpu *vx, const struct hyvm_sregs *sr)
{
	vx->sh.cr0 = sr->cr0;
	vx->sh.cr3 = sr->cr3;
	vx->sh.cr4 = sr->cr4;
	vmcs_write(GUEST_CR3, vx->sh.root);
	hyvm_vmx_shadow_set_efer(vx, sr->efer & (HYVM_GUEST_EFER | EFER_LMA));
}

/*
 * The guest's view back: CR0 and CR4 came from the read shadows (CR0's
 * bits the guest owns may have changed without an exit), CR3 and EFER
 * are kept here.
 */
void hyvm_vmx_shadow_store(struct hyvm_vmx_vcpu *vx, struct hyvm_sregs *sr)
{
	vx->sh.cr0 = sr->cr0;
	sr->cr3 = vx->sh.cr3;
	sr->efer = vx->sh.efer;
}

/**
 * hyvm_vmx_shadow_tlb - the shadow root and the TLB for the next entry
 * @vx: the vCPU, its VMCS current; interrupts off
 * @flush: tlb.c says mappings were taken away
 *
 * Loads the root hyvm_shost_hw_root() chose, and flushes the vCPU's
 * linear mappings when the root changed or @flush: INVVPID for its VPID.
 * Without VPIDs every VM entry and exit flushes them already.
 */
void hyvm_vmx_shadow_tlb(struct hyvm_vmx_vcpu *vx, bool flush)
{
	if (vmcs_read(GUEST_CR3) != vx->sh.root) {
		vmcs_write(GUEST_CR3, vx->sh.root);
		flush = true;
	}
	flush |= vx->sh.flush;
	vx->sh.flush = false;
	if (flush && hyvm_vmx_conf.vpid)
		hyvm_invvpid(hyvm_vmx_conf.invvpid_type, vx->vpid);
}

/*
 * A true page fault for the guest.  One raised while the CPU delivered a
 * page fault or a contributory exception (IDT-vectoring information) is a
 * double fault, and one while delivering a double fault shuts the guest
 * down; after any other event the #PF is delivered on its own.
 */
static int vmx_shadow_reflect(struct hyvm_vcpu *vcpu, struct hyvm_vmx_vcpu *vx,
			      u64 cr2, u32 error_code)
{
	u32 idt = vmcs_read(IDT_VECTORING_INFO_FIELD);

	if ((idt & INTR_INFO_VALID_MASK) &&
	    ((idt & INTR_INFO_INTR_TYPE_MASK) >> 8) == VMX_INTR_TYPE_HW_EXC) {
		u8 first = idt & INTR_INFO_VECTOR_MASK;

		if (first == X86_TRAP_DF) {
			vx->shutdown = true;
			hyvm_exit_shutdown(vcpu, vmcs_read(GUEST_RIP));
			return VMX_USER;
		}
		if (first == X86_TRAP_PF || hyvm_exc_contributory(first)) {
			hyvm_vmx_inject(X86_TRAP_DF, true, 0);
			return VMX_RESUME;
		}
	}
	vx->cr2 = cr2;
	hyvm_vmx_inject(X86_TRAP_PF, true, error_code);
	return VMX_RESUME;
}

/**
 * hyvm_vmx_shadow_pf - a #PF exit on the shadow tables
 * @vcpu: the vCPU
 * @vx: its vmx state, VMCS current
 *
 * The exit qualification is the faulting address, the exit's error code
 * the real fault's.  An event whose delivery the fault cut short was
 * queued again already: a hidden fault just lets it go on.
 *
 * Return: VMX_RESUME, VMX_USER (exit set), or VMX_EMULATE for vmx.c to
 * emulate the instruction (a store to a traced page table, MMIO).
 */
int hyvm_vmx_shadow_pf(struct hyvm_vcpu *vcpu, struct hyvm_vmx_vcpu *vx)
{
	u64 gva = vmcs_read(EXIT_QUALIFICATION);
	u32 err = vmcs_read(VM_EXIT_INTR_ERROR_CODE);
	u8 cpl = (vmcs_read(GUEST_SS_AR_BYTES) >> 5) & 3;
	bool ac = vmcs_read(GUEST_RFLAGS) & X86_EFLAGS_AC;
	struct hyvm_shadow_fault f;
	enum hyvm_shadow_result res;

	/* The shadow MMU takes a mutex and pins guest pages. */
	hyvm_vmx_sleep();
	res = hyvm_shost_page_fault(vcpu, &vx->sh.v, cpl, ac, gva, err, &f);
	if (hyvm_vmx_wake(vcpu, vx))
		return VMX_USER;
	switch (res) {
	case HYVM_SHADOW_RETRY:
		return VMX_RESUME;
	case HYVM_SHADOW_GUEST_PF:
		return vmx_shadow_reflect(vcpu, vx, f.cr2, f.error_code);
	case HYVM_SHADOW_GUEST_GP:
		hyvm_vmx_inject(X86_TRAP_GP, true, 0);
		return VMX_RESUME;
	case HYVM_SHADOW_EMULATE:
	case HYVM_SHADOW_MMIO:
		return VMX_EMULATE;
	default:
		hyvm_exit_internal(vcpu, HYVM_INTERNAL_MEMORY,
				   vmcs_read(GUEST_RIP), gva);
		return VMX_USER;
	}
}
