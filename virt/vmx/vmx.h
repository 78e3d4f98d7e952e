/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmx engine internals: the VMCS controls, per-VM EPT or shadow MMU,
 * per-vCPU VMCS and the state that the VMCS does not switch.
 */
#ifndef HYVM_VMX_VMX_H
#define HYVM_VMX_VMX_H

#include <linux/printk.h>
#include <linux/types.h>
#include <asm/fpu/api.h>
#include <asm/fpu/types.h>
#include "../hyvm.h"
#include "../exit.h"
#include "../emu_env.h"
#include "../tdp.h"
#include "../shadow_host.h"
#include "../../arch-x86/vmx_insn.h"

/* EFER bits a guest may have on Intel (FFXSR is AMD's). */
#define HYVM_GUEST_EFER	(EFER_SCE | EFER_LME | EFER_NX)

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

/**
 * struct hyvm_vmx_config - the VMCS controls, from the capability MSRs
 * @revision: VMCS revision identifier
 * @pin: pin-based controls
 * @proc: primary processor-based controls with EPT
 * @proc2: secondary controls with EPT (EPT, unrestricted guest)
 * @proc_shadow: primary controls on shadow tables (CR3 load/store exiting)
 * @proc2_shadow: secondary controls on shadow tables (no EPT, no
 *	unrestricted guest: it requires EPT)
 * @exit: VM-exit controls
 * @entry: VM-entry controls (IA-32e mode guest is set per guest)
 * @cr0_fixed0: IA32_VMX_CR0_FIXED0 (bits that must be 1)
 * @cr0_fixed1: IA32_VMX_CR0_FIXED1 (bits that may be 1)
 * @cr4_fixed0: IA32_VMX_CR4_FIXED0
 * @cr4_fixed1: IA32_VMX_CR4_FIXED1
 * @ept_vpid_cap: IA32_VMX_EPT_VPID_CAP, 0 without EPT and VPID
 * @invept_type: the INVEPT flavour used
 * @invvpid_type: the INVVPID flavour used
 * @preempt_ticks: VMX-preemption timer per entry
 * @ept: EPT and unrestricted guest usable (else every VM is on shadow tables)
 * @shadow: shadow paging usable (CR3 exiting can be set, EPT cleared)
 * @vpid: VPIDs in use
 */
struct hyvm_vmx_config {
	u32 revision;
	u32 pin, proc, proc2, proc_shadow, proc2_shadow, exit, entry;
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	u64 ept_vpid_cap;
	unsigned long invept_type, invvpid_type;
	u32 preempt_ticks;
	bool ept, shadow, vpid;
};

extern struct hyvm_vmx_config hyvm_vmx_conf;

struct hyvm_vmx_vm {
	bool shadow;			/* no EPT: the shadow MMU (shadow.c) */
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

	bool shadow;			/* no EPT: @sh is in use */
	struct hyvm_shost_vcpu sh;	/* the guest's CR0, CR3, CR4, EFER */
};

/* What an exit handler tells the run loop. */
enum {
	VMX_RESUME = 1,		/* enter the guest again */
	VMX_USER = 0,		/* return to userspace, run->exit_reason set */
	VMX_EMULATE = 2,	/* shadow.c: emulate the instruction at RIP */
};

/* VM-exit interruption information / VM-entry interruption information. */
#define VMX_INTR_TYPE_EXT	0
#define VMX_INTR_TYPE_NMI	2
#define VMX_INTR_TYPE_HW_EXC	3
#define VMX_INTR_TYPE_SOFT	4
#define VMX_INTR_TYPE_PRIV_SW	5
#define VMX_INTR_TYPE_SOFT_EXC	6

/*
 * A failing VMREAD or VMWRITE means a field this CPU does not have, or a
 * value it does not take: a bug in hyvm, said once, never fatal.
 */
static inline u64 vmcs_read(unsigned long field)
{
	u64 v;

	if (!hyvm_vmread(field, &v))
		pr_warn_once("hyvm: vmx: VMREAD of field %#lx failed\n", field);
	return v;
}

static inline void vmcs_write(unsigned long field, u64 val)
{
	if (!hyvm_vmwrite(field, val))
		pr_warn_once("hyvm: vmx: VMWRITE of %#llx to field %#lx failed\n",
			     val, field);
}

/* One VMCS field and its value. */
struct hyvm_vmx_field {
	u32 field;
	u64 val;
};

#define HYVM_VMX_MAX_FIELDS	64

/* vmx.c, exported for the KUnit check against the capability MSRs */
int hyvm_vmx_setup_config(struct hyvm_vmx_config *c);
void hyvm_vmx_cr_masks(const struct hyvm_vmx_config *c, bool shadow,
		       u64 *cr0_mask, u64 *cr4_mask);
u64 hyvm_vmx_hw_cr0(const struct hyvm_vmx_config *c, bool shadow, u64 cr0);
u64 hyvm_vmx_hw_cr4(const struct hyvm_vmx_config *c, u64 cr4);
unsigned int hyvm_vmx_vmcs_fields(const struct hyvm_vmx_config *c,
				  const struct hyvm_vmx_vcpu *vx, u64 eptp,
				  struct hyvm_vmx_field *f);
void hyvm_vmx_inject(u8 vector, bool has_err, u32 err);
void hyvm_vmx_sleep(void);
int hyvm_vmx_wake(struct hyvm_vcpu *vcpu, struct hyvm_vmx_vcpu *vx);
void hyvm_vmx_set_efer(u64 efer);

/* shadow.c: ept=0 */
void hyvm_vmx_shadow_load(struct hyvm_vmx_vcpu *vx,
			  const struct hyvm_sregs *sr);
void hyvm_vmx_shadow_store(struct hyvm_vmx_vcpu *vx, struct hyvm_sregs *sr);
void hyvm_vmx_shadow_set_efer(struct hyvm_vmx_vcpu *vx, u64 efer);
void hyvm_vmx_shadow_tlb(struct hyvm_vmx_vcpu *vx, bool flush);
int hyvm_vmx_shadow_pf(struct hyvm_vcpu *vcpu, struct hyvm_vmx_vcpu *vx);

#endif /* HYVM_VMX_VMX_H */
