/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmx engine internals: per-VM EPT, per-vCPU VMCS and the state that the
 * VMCS does not switch.
 */
#ifndef HYVM_VMX_VMX_H
#define HYVM_VMX_VMX_H

#include <linux/types.h>
#include <asm/fpu/api.h>
#include <asm/fpu/types.h>
#include "../hyvm.h"
#include "../exit.h"
#include "../emu_env.h"
#include "../tdp.h"

/*
 * Guest general-purpose registers, indexed by their x86 register number
 * (the numbers that exit qualifications use).  RSP lives in the VMCS; its
 * slot is filled only while a handler needs it.  arch-x86/vmx_vmenter.S
 * uses the offsets.
 */
struct hyvm_vmx_gprs {
	u64 r[16];
};

enum {
	VMX_RAX, VMX_RCX, VMX_RDX, VMX_RBX, VMX_RSP, VMX_RBP, VMX_RSI, VMX_RDI,
};

/* arch-x86/vmx_vmenter.S */
int hyvm_vmx_vmenter(struct hyvm_vmx_gprs *gprs, int resume);
void hyvm_vmx_vmexit(void);
void hyvm_vmx_do_interrupt(unsigned long handler);

/* One entry of a VM-entry/VM-exit MSR area (SDM format). */
struct hyvm_vmx_msr_entry {
	u32 index;
	u32 reserved;
	u64 value;
} __aligned(16);

/*
 * MSRs that neither VM entry nor VM exit switches, loaded with the guest's
 * values on entry, stored back on exit and given back to the host on exit,
 * through the VMCS MSR areas.
 */
#define VMX_NR_AUTO_MSRS	6
#define VMX_AUTO_KERNEL_GS_BASE	4	/* per host thread: set at each entry */
#define VMX_AUTO_TSC_AUX	5	/* the guest's is checked on write */

struct hyvm_vmx_vm {
	struct hyvm_npt ept;
	u64 eptp;
};

struct hyvm_vmx_vcpu {
	void *vmcs;
	u64 vmcs_pa;
	int cpu;			/* where the VMCS is active, or -1 */
	bool vmcs_ready;		/* the constant fields are written */
	bool launched;			/* VMLAUNCH done on @cpu */
	u16 vpid;
	struct hyvm_vmx_gprs gprs;
	struct fpu_guest fpu;
	struct hyvm_msr_state msrs;
	u64 cr2;			/* not in the VMCS: switched by hand */

	/* The MSR areas: guest (entry load, exit store) and host (exit load). */
	struct hyvm_vmx_msr_entry *guest_msrs;
	struct hyvm_vmx_msr_entry *host_msrs;

	/* The guest's view of CR0/CR4 where it differs from the hardware. */
	u64 cr0_mask, cr4_mask;

	/* An IN waiting for its data from userspace. */
	bool io_in_pending;
	u8 io_in_size;
	u64 io_in_next_rip;

	bool shutdown;			/* triple fault: the vCPU is dead */

	/* The guest's debug registers: virtual, MOV DR always exits. */
	u64 dr[4], dr6, dr7;

	/* Instructions that touch MMIO, and string I/O, are emulated. */
	struct hyvm_emu_ctx emu;
};

#endif /* HYVM_VMX_VMX_H */
