// SPDX-License-Identifier: GPL-2.0
/*
 * The vmx engine: Intel VT-x, with EPT (ept=1) and unrestricted guest, or
 * on shadow page tables (ept=0, or a CPU without usable EPT: shadow.c).
 *
 * VMX operation is entered per CPU (CR4.VMXE, VMXON) while at least one
 * vmx VM exists, and left again with the last one, so that another
 * hypervisor (kvm_intel does the same) can use the CPUs when hyvm has no
 * VMs.  If another hypervisor already has CR4.VMXE set, VM creation fails
 * with EBUSY and says why.
 *
 * Each vCPU has a VMCS whose controls are computed from the capability
 * MSRs: what hyvm needs must be allowed-1, what it does not want is cleared
 * where the CPU allows it, and the CPU's must-be-1 bits are always set.  A
 * VMCS is active on one CPU at a time; when the vCPU thread moves, the
 * VMCS is cleared on the old CPU (by IPI) and loaded on the new one, with
 * the per-CPU host state rewritten and the vCPU's VPID and EPT context
 * flushed there.
 *
 * The run loop is the svm engine's: guest registers live in struct
 * hyvm_vcpu between HYVM_RUN calls, host interrupts end guest execution at
 * once (external-interrupt exiting) and are taken in host context,
 * rescheduling and signals are honoured between entries, and exits are
 * dispatched through a table into the handlers shared with the other
 * engines (virt/exit.h).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": vmx: " fmt

#include <linux/cpu.h>
#include <linux/idr.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/percpu.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <asm/cpu_entry_area.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/fpu/api.h>
#include <asm/io.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include <asm/trapnr.h>
#include <asm/tsc.h>
#include <asm/vmx.h>
#include "vmx.h"
#include "../../arch-x86/host_interrupt.h"
#include "../hw_enable.h"
#include "../../arch-x86/cpu_probe.h"

static bool ept = true;
module_param(ept, bool, 0644);
MODULE_PARM_DESC(ept, "vmx: EPT (1) or shadow paging (0) for new VMs");

#define HYVM_DR6_INIT	0xffff0ff0ULL
#define HYVM_DR7_INIT	0x400ULL

/* CR4 bits a guest may set: what CPUID tells it (virt/cpuid.c), no VMX. */
#define HYVM_GUEST_CR4	(X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD |	\
			 X86_CR4_DE | X86_CR4_PSE | X86_CR4_PAE |	\
			 X86_CR4_MCE | X86_CR4_PGE | X86_CR4_PCE |	\
			 X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT |		\
			 X86_CR4_UMIP | X86_CR4_FSGSBASE |		\
			 X86_CR4_SMEP | X86_CR4_SMAP)

/* Interruptibility state: blocking by STI, by MOV SS. */
#define VMX_BLOCK_STI		BIT(0)
#define VMX_BLOCK_MOVSS		BIT(1)

/* EPT capabilities (IA32_VMX_EPT_VPID_CAP). */
#define VMX_CAP_EPT_4LEVEL	BIT_ULL(6)
#define VMX_CAP_EPT_WB		BIT_ULL(14)
#define VMX_CAP_INVEPT		BIT_ULL(20)
#define VMX_CAP_INVEPT_SINGLE	BIT_ULL(25)
#define VMX_CAP_INVEPT_ALL	BIT_ULL(26)
#define VMX_CAP_INVVPID		BIT_ULL(32)
#define VMX_CAP_INVVPID_SINGLE	BIT_ULL(41)
#define VMX_CAP_INVVPID_ALL	BIT_ULL(42)

struct hyvm_vmx_cpu {
	struct page *vmxon_region;
	bool enabled;			/* hyvm did VMXON here */
	struct hyvm_vmx_vcpu *current_vcpu;	/* its VMCS is current here */
};

static DEFINE_PER_CPU(struct hyvm_vmx_cpu, hyvm_vmx_cpus);
/* The VMCS controls, computed by the first vmx VM. */
struct hyvm_vmx_config hyvm_vmx_conf;
static struct page *hyvm_vmx_msr_bitmap;
static DEFINE_IDA(hyvm_vmx_vpids);

/* ---- capabilities ---- */

/*
 * The value of one control word: @want bits that the CPU allows, plus
 * the bits it requires.  Fails when a bit of @need is not allowed.
 */
static int vmx_adjust(u32 msr, u32 need, u32 want, u32 *ctl)
{
	u64 cap;
	u32 must, may;

	if (rdmsrl_safe(msr, &cap))
		return -EIO;
	must = cap;
	may = cap >> 32;
	if (need & ~may)
		return -EOPNOTSUPP;
	*ctl = ((need | want) & may) | must;
	return 0;
}

/* The processor-based controls hyvm needs in both paging modes. */
#define VMX_PROC_NEEDED	(CPU_BASED_HLT_EXITING | CPU_BASED_CR8_LOAD_EXITING |	\
			 CPU_BASED_CR8_STORE_EXITING |				\
			 CPU_BASED_UNCOND_IO_EXITING |				\
			 CPU_BASED_USE_MSR_BITMAPS | CPU_BASED_MOV_DR_EXITING |	\
			 CPU_BASED_MWAIT_EXITING | CPU_BASED_MONITOR_EXITING |	\
			 CPU_BASED_RDPMC_EXITING)
#define VMX_PROC_CR3	(CPU_BASED_CR3_LOAD_EXITING | CPU_BASED_CR3_STORE_EXITING)
#define VMX_PROC2_EPT	(SECONDARY_EXEC_ENABLE_EPT |				\
			 SECONDARY_EXEC_UNRESTRICTED_GUEST)

/* What EPT needs from IA32_VMX_EPT_VPID_CAP: 4 levels, WB, INVEPT. */
static bool vmx_ept_caps_ok(u64 cap)
{
	return (cap & VMX_CAP_EPT_4LEVEL) && (cap & VMX_CAP_EPT_WB) &&
	       (cap & VMX_CAP_INVEPT) &&
	       (cap & (VMX_CAP_INVEPT_SINGLE | VMX_CAP_INVEPT_ALL));
}

/**
 * hyvm_vmx_setup_config - the VMCS controls from the capability MSRs
 * @c: receives them
 *
 * Two sets of processor-based controls: with EPT and unrestricted guest
 * (ept=1), and on shadow tables (ept=0, or a CPU without EPT), where CR3
 * loads and stores exit and neither EPT nor unrestricted guest is on.
 *
 * Return: 0, -EIO (an MSR is not readable), or -EOPNOTSUPP when the CPU
 * lacks a control hyvm needs in both modes.
 */
int hyvm_vmx_setup_config(struct hyvm_vmx_config *c)
{
	u32 procmsr, want2;
	u64 basic;
	bool truectl;
	int ret;

	memset(c, 0, sizeof(*c));
	if (rdmsrl_safe(MSR_IA32_VMX_BASIC, &basic))
		return -EIO;
	/* A VMCS region must fit one page, in write-back memory. */
	if (((basic >> VMX_BASIC_VMCS_SIZE_SHIFT) & 0x1fff) > PAGE_SIZE ||
	    ((basic & VMX_BASIC_MEM_TYPE_MASK) >> VMX_BASIC_MEM_TYPE_SHIFT) !=
	    VMX_BASIC_MEM_TYPE_WB)
		return -EOPNOTSUPP;
	c->revision = basic & 0x7fffffff;
	/* The TRUE_* MSRs let default-1 controls be cleared. */
	truectl = basic & VMX_BASIC_TRUE_CTLS;

	ret = vmx_adjust(truectl ? MSR_IA32_VMX_TRUE_PINBASED_CTLS :
			 MSR_IA32_VMX_PINBASED_CTLS,
			 PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING,
			 PIN_BASED_VMX_PREEMPTION_TIMER, &c->pin);
	if (ret)
		return ret;
	/*
	 * The preemption timer bounds every stay in the guest, whatever
	 * interrupts do: Bochs does not exit a guest that runs with IF clear
	 * on host interrupts, which would hang a one-CPU host.  About a
	 * millisecond, in the timer's units (the TSC shifted right by the
	 * rate IA32_VMX_MISC gives).
	 */
	if (c->pin & PIN_BASED_VMX_PREEMPTION_TIMER) {
		u64 misc;

		rdmsrl(MSR_IA32_VMX_MISC, misc);
		c->preempt_ticks = max_t(u64, (u64)tsc_khz >>
					 (misc & VMX_MISC_PREEMPTION_TIMER_RATE_MASK),
					 1);
		c->preempt_ticks = min_t(u64, c->preempt_ticks, U32_MAX);
	}
	/*
	 * Everything the guest could use to reach host state exits: port
	 * I/O, MSRs (through the bitmap), CR8 (the host's TPR), debug
	 * registers, MONITOR/MWAIT, RDPMC, HLT.  With EPT, CR3 accesses,
	 * INVLPG and RDTSC do not need to; on shadow tables CR3 accesses do
	 * (the hardware's CR3 is the shadow root), INVLPG still does not
	 * (write tracing keeps the shadow coherent).
	 */
	procmsr = truectl ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS :
		  MSR_IA32_VMX_PROCBASED_CTLS;
	ret = vmx_adjust(procmsr, VMX_PROC_NEEDED,
			 CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, &c->proc);
	if (ret)
		return ret;
	/*
	 * CR3 exiting and INVLPG exiting are default-1 controls that the
	 * TRUE_* MSRs let hyvm leave clear: a CPU that insists on them is
	 * not supported.
	 */
	if (c->proc & (VMX_PROC_CR3 | CPU_BASED_INVLPG_EXITING))
		return -EOPNOTSUPP;
	c->shadow = !vmx_adjust(procmsr, VMX_PROC_NEEDED | VMX_PROC_CR3,
				CPU_BASED_ACTIVATE_SECONDARY_CONTROLS,
				&c->proc_shadow);
	if (c->proc & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS) {
		want2 = VMX_PROC2_EPT | SECONDARY_EXEC_ENABLE_VPID |
			SECONDARY_EXEC_ENABLE_RDTSCP |
			SECONDARY_EXEC_WBINVD_EXITING;
		ret = vmx_adjust(MSR_IA32_VMX_PROCBASED_CTLS2, 0, want2,
				 &c->proc2);
		if (ret)
			return ret;
		/* The capabilities of EPT and VPID exist when either does. */
		if ((c->proc2 & (SECONDARY_EXEC_ENABLE_EPT |
				 SECONDARY_EXEC_ENABLE_VPID)) &&
		    rdmsrl_safe(MSR_IA32_VMX_EPT_VPID_CAP, &c->ept_vpid_cap))
			c->ept_vpid_cap = 0;
	}
	c->ept = (c->proc2 & VMX_PROC2_EPT) == VMX_PROC2_EPT &&
		 vmx_ept_caps_ok(c->ept_vpid_cap);
	/* Shadow tables with EPT forced on by the CPU cannot be loaded. */
	c->proc2_shadow = c->proc2 & ~VMX_PROC2_EPT;
	if (c->proc2_shadow & VMX_PROC2_EPT)
		c->shadow = false;
	if (!c->ept)
		c->proc2 = c->proc2_shadow;
	if (!c->ept && !c->shadow)
		return -EOPNOTSUPP;

	ret = vmx_adjust(truectl ? MSR_IA32_VMX_TRUE_EXIT_CTLS :
			 MSR_IA32_VMX_EXIT_CTLS,
			 VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_SAVE_IA32_EFER |
			 VM_EXIT_LOAD_IA32_EFER | VM_EXIT_ACK_INTR_ON_EXIT,
			 VM_EXIT_SAVE_IA32_PAT | VM_EXIT_LOAD_IA32_PAT, &c->exit);
	if (ret)
		return ret;
	ret = vmx_adjust(truectl ? MSR_IA32_VMX_TRUE_ENTRY_CTLS :
			 MSR_IA32_VMX_ENTRY_CTLS,
			 VM_ENTRY_LOAD_IA32_EFER | VM_ENTRY_IA32E_MODE,
			 VM_ENTRY_LOAD_IA32_PAT, &c->entry);
	if (ret)
		return ret;
	/* IA-32e mode is per guest, set at each load of its state. */
	c->entry &= ~VM_ENTRY_IA32E_MODE;
	if (!(c->exit & VM_EXIT_SAVE_IA32_PAT) ||
	    !(c->entry & VM_ENTRY_LOAD_IA32_PAT)) {
		c->exit &= ~(VM_EXIT_SAVE_IA32_PAT | VM_EXIT_LOAD_IA32_PAT);
		c->entry &= ~VM_ENTRY_LOAD_IA32_PAT;
	}

	rdmsrl(MSR_IA32_VMX_CR0_FIXED0, c->cr0_fixed0);
	rdmsrl(MSR_IA32_VMX_CR0_FIXED1, c->cr0_fixed1);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED0, c->cr4_fixed0);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED1, c->cr4_fixed1);
	c->invept_type = c->ept_vpid_cap & VMX_CAP_INVEPT_SINGLE ?
			 VMX_EPT_EXTENT_CONTEXT : VMX_EPT_EXTENT_GLOBAL;
	/* VPIDs need INVVPID to be flushed when a vCPU changes CPU. */
	c->vpid = (c->proc2 & SECONDARY_EXEC_ENABLE_VPID) &&
		  (c->ept_vpid_cap & VMX_CAP_INVVPID) &&
		  (c->ept_vpid_cap & (VMX_CAP_INVVPID_SINGLE |
				      VMX_CAP_INVVPID_ALL));
	if (!c->vpid) {
		c->proc2 &= ~SECONDARY_EXEC_ENABLE_VPID;
		c->proc2_shadow &= ~SECONDARY_EXEC_ENABLE_VPID;
	}
	c->invvpid_type = c->ept_vpid_cap & VMX_CAP_INVVPID_SINGLE ?
			  VMX_VPID_EXTENT_SINGLE_CONTEXT :
			  VMX_VPID_EXTENT_ALL_CONTEXT;
	return 0;
}
HYVM_EXPORT_FOR_TESTS(hyvm_vmx_setup_config);

/* ---- per-CPU VMX operation ---- */

/*
 * Enter VMX operation on this CPU.  Runs with interrupts off, from
 * on_each_cpu() or from the run loop on a CPU that came online later.
 */
static int vmx_cpu_enable(void)
{
	struct hyvm_vmx_cpu *c = this_cpu_ptr(&hyvm_vmx_cpus);
	u64 feat, cr0 = read_cr0();
	int ret;

	if (__read_cr4() & X86_CR4_VMXE)
		return c->enabled ? 0 : -EBUSY;
	if (!c->vmxon_region)
		return -ENOMEM;
	if (rdmsrl_safe(MSR_IA32_FEAT_CTL, &feat) ||
	    !(feat & FEAT_CTL_LOCKED) ||
	    !(feat & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX))
		return -EPERM;
	/* Linux runs with PE, PG and NE: anything else is not ours to fix. */
	if ((cr0 & hyvm_vmx_conf.cr0_fixed0) != hyvm_vmx_conf.cr0_fixed0 ||
	    (cr0 & ~hyvm_vmx_conf.cr0_fixed1) ||
	    ((__read_cr4() | X86_CR4_VMXE) & ~hyvm_vmx_conf.cr4_fixed1))
		return -EINVAL;
	cr4_set_bits(X86_CR4_VMXE | (hyvm_vmx_conf.cr4_fixed0 & ~__read_cr4()));
	ret = hyvm_vmxon(page_to_phys(c->vmxon_region));
	if (ret) {
		cr4_clear_bits(X86_CR4_VMXE);
		return ret;
	}
	c->enabled = true;
	c->current_vcpu = NULL;
	return 0;
}

static void vmx_cpu_disable(void)
{
	struct hyvm_vmx_cpu *c = this_cpu_ptr(&hyvm_vmx_cpus);

	if (!c->enabled)
		return;
	hyvm_vmxoff();
	cr4_clear_bits(X86_CR4_VMXE);
	c->enabled = false;
	c->current_vcpu = NULL;
}

static void vmx_free_global(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct hyvm_vmx_cpu *c = per_cpu_ptr(&hyvm_vmx_cpus, cpu);

		if (c->vmxon_region)
			__free_page(c->vmxon_region);
		c->vmxon_region = NULL;
		c->enabled = false;
	}
	if (hyvm_vmx_msr_bitmap)
		__free_page(hyvm_vmx_msr_bitmap);
	hyvm_vmx_msr_bitmap = NULL;
}

/* Let the guest reach an MSR directly: clear its read and write bits. */
static void vmx_msr_allow(u8 *bm, u32 msr)
{
	u32 off = msr & 0x1fff;

	if (msr >= 0xc0000000)
		bm += 1024;
	bm[off / 8] &= ~BIT(off % 8);		/* read */
	bm[2048 + off / 8] &= ~BIT(off % 8);	/* write */
}

static int vmx_alloc_global(void)
{
	/*
	 * MSRs that the VMCS (FS/GS base, SYSENTER) or the MSR areas
	 * (syscall MSRs, KERNEL_GS_BASE) switch hold the guest's value while
	 * it runs: the guest may access them without an exit.  EFER, PAT and
	 * TSC_AUX are switched too but are checked on write.
	 */
	static const u32 direct[] = {
		MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_STAR,
		MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK, MSR_IA32_SYSENTER_CS,
		MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	};
	unsigned int i;
	int cpu;

	for_each_possible_cpu(cpu) {
		struct hyvm_vmx_cpu *c = per_cpu_ptr(&hyvm_vmx_cpus, cpu);

		c->vmxon_region = alloc_pages_node(cpu_to_node(cpu),
						   GFP_KERNEL | __GFP_ZERO, 0);
		if (!c->vmxon_region)
			return -ENOMEM;
		*(u32 *)page_address(c->vmxon_region) = hyvm_vmx_conf.revision;
	}
	hyvm_vmx_msr_bitmap = alloc_page(GFP_KERNEL);
	if (!hyvm_vmx_msr_bitmap)
		return -ENOMEM;
	memset(page_address(hyvm_vmx_msr_bitmap), 0xff, PAGE_SIZE);
	for (i = 0; i < ARRAY_SIZE(direct); i++)
		vmx_msr_allow(page_address(hyvm_vmx_msr_bitmap), direct[i]);
	return 0;
}

/* First vmx VM: the controls from the capability MSRs, then the areas. */
static int vmx_setup(void)
{
	int ret = hyvm_vmx_setup_config(&hyvm_vmx_conf);

	if (ret) {
		pr_warn("this CPU lacks what the vmx engine needs (I/O, MSR, CR8 and HLT exiting, save/load EFER, and either EPT with write-back 4-level tables and unrestricted guest or CR3 exiting): %d\n",
			ret);
		return ret;
	}
	if (!hyvm_vmx_conf.ept)
		pr_info("no usable EPT: every vmx VM runs on shadow page tables\n");
	return vmx_alloc_global();
}

static struct hyvm_hw_enable vmx_hw = {
	.name		= "vmx",
	.busy_reason	= "VMX enabled (CR4.VMXE)",
	.setup		= vmx_setup,
	.cpu_enable	= vmx_cpu_enable,
	.cpu_disable	= vmx_cpu_disable,
	.teardown	= vmx_free_global,
	.lock		= HYVM_HW_ENABLE_LOCK(vmx_hw),
};

/*
 * The probe of arch-x86 sees CR4.VMXE set while hyvm itself has vmx VMs:
 * that is not another hypervisor.
 */
static int vmx_probe(struct hyvm_engine_info *info)
{
	int ret = hyvm_probe_vmx(info);

	if (ret == -EBUSY && hyvm_hw_in_use(&vmx_hw) &&
	    this_cpu_read(hyvm_vmx_cpus.enabled)) {
		memset(info->reason, 0, sizeof(info->reason));
		info->features = (hyvm_vmx_conf.ept ? HYVM_ENGINE_F_TDP |
				  HYVM_ENGINE_F_UG : 0) |
				 (hyvm_vmx_conf.vpid ? HYVM_ENGINE_F_VPID : 0);
		snprintf(info->reason, sizeof(info->reason), "VT-x%s%s%s",
			 hyvm_vmx_conf.ept ? " with EPT" : "",
			 hyvm_vmx_conf.vpid ? ", VPID" : "",
			 hyvm_vmx_conf.ept ? ", unrestricted guest" : "");
		ret = 0;
	}
	return ret;
}

/* ---- VMs ---- */

static int vmx_vm_init(struct hyvm_vm *vm)
{
	struct hyvm_vmx_vm *vv;
	int ret;

	vv = kzalloc(sizeof(*vv), GFP_KERNEL_ACCOUNT);
	if (!vv)
		return -ENOMEM;
	ret = hyvm_hw_get(&vmx_hw);
	if (ret)
		goto err_free;
	/* Shadow paging when asked for, or when the CPU has no usable EPT. */
	vv->shadow = !READ_ONCE(ept) || !hyvm_vmx_conf.ept;
	if (vv->shadow) {
		if (!hyvm_vmx_conf.shadow) {
			pr_warn_ratelimited("this CPU cannot run vmx guests on shadow page tables (CR3 exiting or EPT fixed by the CPU)\n");
			ret = -EOPNOTSUPP;
			goto err_put;
		}
		ret = hyvm_shost_init(vm);
		if (ret)
			goto err_put;
		vm->engine_priv = vv;
		return 0;
	}
	/* Write-back memory; the guest's PAT still applies on top. */
	ret = hyvm_tdp_init(&vv->ept, 4,
			    (u64)VMX_EPTP_MT_WB << VMX_EPT_MT_EPTE_SHIFT);
	if (ret)
		goto err_put;
	vv->eptp = hyvm_npt_root_pa(&vv->ept) | VMX_EPTP_MT_WB |
		   VMX_EPTP_PWL_4;
	vm->engine_priv = vv;
	return 0;

err_put:
	hyvm_npt_destroy(&vv->ept, vm->mm);
	hyvm_hw_put(&vmx_hw);
err_free:
	kfree(vv);
	return ret;
}

static void vmx_vm_destroy(struct hyvm_vm *vm)
{
	struct hyvm_vmx_vm *vv = vm->engine_priv;

	if (!vv)
		return;
	if (vv->shadow)
		hyvm_shost_destroy(vm);
	else
		hyvm_npt_destroy(&vv->ept, vm->mm);
	kfree(vv);
	vm->engine_priv = NULL;
	hyvm_hw_put(&vmx_hw);
}

/* ---- vCPUs ---- */

/* VMCLEAR on the CPU where the VMCS is active (called there). */
static void vmx_vmclear_here(void *arg)
{
	struct hyvm_vmx_vcpu *vx = arg;
	struct hyvm_vmx_cpu *c = this_cpu_ptr(&hyvm_vmx_cpus);

	if (c->enabled)
		hyvm_vmclear(vx->vmcs_pa);
	if (c->current_vcpu == vx)
		c->current_vcpu = NULL;
	vx->cpu = -1;
	vx->launched = false;
}

static void vmx_vmclear(struct hyvm_vmx_vcpu *vx)
{
	int cpu = READ_ONCE(vx->cpu);

	if (cpu < 0)
		return;
	/* An offline CPU lost its VMCS cache with VMX operation. */
	if (smp_call_function_single(cpu, vmx_vmclear_here, vx, 1)) {
		vx->cpu = -1;
		vx->launched = false;
	}
}

/**
 * hyvm_vmx_vmcs_fields - the VMCS fields that never change for a vCPU
 * @c: the controls
 * @vx: the vCPU (its paging mode, VPID, CR masks and MSR areas)
 * @eptp: the EPT pointer (unused on shadow tables)
 * @f: receives at most HYVM_VMX_MAX_FIELDS fields and their values
 *
 * A list rather than a run of VMWRITEs, so that the KUnit test can check
 * that each field exists with the controls that go with it (no EPT
 * pointer without EPT, no VPID without VPID).
 *
 * Return: the number of fields.
 */
unsigned int hyvm_vmx_vmcs_fields(const struct hyvm_vmx_config *c,
				  const struct hyvm_vmx_vcpu *vx, u64 eptp,
				  struct hyvm_vmx_field *f)
{
	unsigned int n = 0;
	/*
	 * #DB and #AC can be raised again by their own delivery, looping
	 * inside the CPU without ever opening an interrupt window: intercept
	 * them so that the host keeps the CPU.  On shadow tables every #PF
	 * exits too (the error-code mask and match of 0 select them all).
	 */
	u32 exc = BIT(X86_TRAP_DB) | BIT(X86_TRAP_AC) |
		  (vx->shadow ? BIT(X86_TRAP_PF) : 0);
	u32 proc = vx->shadow ? c->proc_shadow : c->proc;
	u32 proc2 = vx->shadow ? c->proc2_shadow : c->proc2;

#define F(field, val) (f[n++] = (struct hyvm_vmx_field){ (field), (val) })
	F(PIN_BASED_VM_EXEC_CONTROL, c->pin);
	F(CPU_BASED_VM_EXEC_CONTROL, proc);
	if (proc & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS)
		F(SECONDARY_VM_EXEC_CONTROL, proc2);
	F(VM_EXIT_CONTROLS, c->exit);
	F(VM_ENTRY_CONTROLS, c->entry);
	if (proc2 & SECONDARY_EXEC_ENABLE_VPID)
		F(VIRTUAL_PROCESSOR_ID, vx->vpid);
	if (proc2 & SECONDARY_EXEC_ENABLE_EPT)
		F(EPT_POINTER, eptp);
	F(MSR_BITMAP, hyvm_vmx_msr_bitmap ?
	  page_to_phys(hyvm_vmx_msr_bitmap) : 0);
	F(EXCEPTION_BITMAP, exc);
	F(PAGE_FAULT_ERROR_CODE_MASK, 0);
	F(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	F(CR3_TARGET_COUNT, 0);
	F(CR0_GUEST_HOST_MASK, vx->cr0_mask);
	F(CR4_GUEST_HOST_MASK, vx->cr4_mask);
	F(VM_EXIT_MSR_STORE_ADDR, virt_to_phys(vx->guest_msrs));
	F(VM_EXIT_MSR_STORE_COUNT, VMX_NR_AUTO_MSRS);
	F(VM_ENTRY_MSR_LOAD_ADDR, virt_to_phys(vx->guest_msrs));
	F(VM_ENTRY_MSR_LOAD_COUNT, VMX_NR_AUTO_MSRS);
	F(VM_EXIT_MSR_LOAD_ADDR, virt_to_phys(vx->host_msrs));
	F(VM_EXIT_MSR_LOAD_COUNT, VMX_NR_AUTO_MSRS);
	F(VM_ENTRY_INTR_INFO_FIELD, 0);
	F(VMCS_LINK_POINTER, ~0ULL);
	F(GUEST_IA32_DEBUGCTL, 0);
	F(GUEST_DR7, HYVM_DR7_INIT);
	F(GUEST_ACTIVITY_STATE, 0);
	F(GUEST_INTERRUPTIBILITY_INFO, 0);
	F(GUEST_PENDING_DBG_EXCEPTIONS, 0);
	F(GUEST_SYSENTER_CS, 0);
	F(GUEST_SYSENTER_ESP, 0);
	F(GUEST_SYSENTER_EIP, 0);

	/* Host state that is the same on every CPU. */
	F(HOST_CR0, read_cr0());
	F(HOST_CS_SELECTOR, __KERNEL_CS);
	F(HOST_SS_SELECTOR, __KERNEL_DS);
	F(HOST_DS_SELECTOR, 0);
	F(HOST_ES_SELECTOR, 0);
	F(HOST_FS_SELECTOR, 0);
	F(HOST_GS_SELECTOR, 0);
	F(HOST_TR_SELECTOR, GDT_ENTRY_TSS * 8);
	F(HOST_RIP, (unsigned long)hyvm_vmx_vmexit);
	if (c->exit & VM_EXIT_LOAD_IA32_PAT) {
		u64 pat;

		rdmsrl(MSR_IA32_CR_PAT, pat);
		F(HOST_IA32_PAT, pat);
	}
#undef F
	WARN_ON_ONCE(n > HYVM_VMX_MAX_FIELDS);
	return n;
}
HYVM_EXPORT_FOR_TESTS(hyvm_vmx_vmcs_fields);

/* The VMCS fields that never change for a vCPU (VMCS current). */
static void vmx_init_vmcs(struct hyvm_vcpu *vcpu, struct hyvm_vmx_vcpu *vx)
{
	struct hyvm_vmx_vm *vv = vcpu->vm->engine_priv;
	struct hyvm_vmx_field f[HYVM_VMX_MAX_FIELDS];
	unsigned int i, n;

	n = hyvm_vmx_vmcs_fields(&hyvm_vmx_conf, vx, vv->eptp, f);
	for (i = 0; i < n; i++)
		vmcs_write(f[i].field, f[i].val);
}

/**
 * hyvm_vmx_cr_masks - the CR0 and CR4 bits the host owns
 * @c: the controls
 * @shadow: on shadow tables (else EPT)
 * @cr0_mask: receives the CR0 guest/host mask
 * @cr4_mask: receives the CR4 guest/host mask
 *
 * The host owns the CR0 bits that decide paging and caching and those VMX
 * fixes (the guest sees its own values in the read shadow); TS, MP, EM,
 * AM, ET are the guest's, and so is WP with EPT.  On shadow tables WP is
 * the host's too: the hardware runs with it set whatever the guest's, as
 * the shadow's hardware view needs.  CR4 is the host's entirely: every
 * write is checked, and PAE, PGE, SMEP, SMAP, PKE and LA57 decide the
 * shadow's role.
 */
void hyvm_vmx_cr_masks(const struct hyvm_vmx_config *c, bool shadow,
		       u64 *cr0_mask, u64 *cr4_mask)
{
	*cr0_mask = X86_CR0_PE | X86_CR0_PG | X86_CR0_NE | X86_CR0_CD |
		    X86_CR0_NW | (c->cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG)) |
		    (~c->cr0_fixed1 & 0xffffffffULL) |
		    (shadow ? X86_CR0_WP : 0);
	*cr4_mask = ~0ULL;
}
HYVM_EXPORT_FOR_TESTS(hyvm_vmx_cr_masks);

static const u32 vmx_auto_msrs[VMX_NR_AUTO_MSRS] = {
	MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK,
	[VMX_AUTO_KERNEL_GS_BASE] = MSR_KERNEL_GS_BASE,
	[VMX_AUTO_TSC_AUX] = MSR_TSC_AUX,
};

static int vmx_vcpu_create(struct hyvm_vcpu *vcpu)
{
	struct hyvm_vmx_vcpu *vx;
	struct page *page;
	unsigned int i;
	int ret = -ENOMEM;

	BUILD_BUG_ON(offsetof(struct hyvm_vmx_gprs, r[VMX_RBX]) != 24);
	BUILD_BUG_ON(offsetof(struct hyvm_vmx_gprs, r[15]) != 120);
	BUILD_BUG_ON(2 * VMX_NR_AUTO_MSRS * sizeof(struct hyvm_vmx_msr_entry) >
		     PAGE_SIZE);

	vx = kzalloc(sizeof(*vx), GFP_KERNEL_ACCOUNT);
	if (!vx)
		return -ENOMEM;
	vx->cpu = -1;
	page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!page)
		goto err_vx;
	vx->vmcs = page_address(page);
	vx->vmcs_pa = page_to_phys(page);
	*(u32 *)vx->vmcs = hyvm_vmx_conf.revision;
	vx->guest_msrs = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vx->guest_msrs)
		goto err_vmcs;
	vx->host_msrs = vx->guest_msrs + VMX_NR_AUTO_MSRS;
	for (i = 0; i < VMX_NR_AUTO_MSRS; i++) {
		vx->guest_msrs[i].index = vmx_auto_msrs[i];
		vx->host_msrs[i].index = vmx_auto_msrs[i];
	}
	if (!fpu_alloc_guest_fpstate(&vx->fpu))
		goto err_msrs;
	if (hyvm_vmx_conf.vpid) {
		ret = ida_alloc_range(&hyvm_vmx_vpids, 1, 0xffff,
				      GFP_KERNEL_ACCOUNT);
		if (ret < 0)
			goto err_fpu;
		vx->vpid = ret;
	}
	vx->shadow = ((struct hyvm_vmx_vm *)vcpu->vm->engine_priv)->shadow;
	hyvm_vmx_cr_masks(&hyvm_vmx_conf, vx->shadow, &vx->cr0_mask,
			  &vx->cr4_mask);
	vx->dr6 = HYVM_DR6_INIT;
	vx->dr7 = HYVM_DR7_INIT;
	hyvm_msr_reset(&vx->msrs);
	hyvm_emu_ctx_init(&vx->emu, vcpu);
	if (vx->shadow)
		hyvm_shost_vcpu_init(vcpu, &vx->sh.v);
	vcpu->engine_priv = vx;
	return 0;

err_fpu:
	fpu_free_guest_fpstate(&vx->fpu);
err_msrs:
	free_page((unsigned long)vx->guest_msrs);
err_vmcs:
	__free_page(page);
err_vx:
	kfree(vx);
	return ret;
}

static void vmx_vcpu_free(struct hyvm_vcpu *vcpu)
{
	struct hyvm_vmx_vcpu *vx = vcpu->engine_priv;

	if (!vx)
		return;
	vmx_vmclear(vx);
	if (vx->shadow)
		hyvm_shost_vcpu_destroy(vcpu, &vx->sh.v);
	if (vx->vpid)
		ida_free(&hyvm_vmx_vpids, vx->vpid);
	fpu_free_guest_fpstate(&vx->fpu);
	free_page((unsigned long)vx->guest_msrs);
	__free_page(virt_to_page(vx->vmcs));
	kfree(vx);
	vcpu->engine_priv = NULL;
}

/*
 * Make the vCPU's VMCS current on this CPU.  Preemption is off,
 * interrupts on (a VMCS active elsewhere is cleared there by IPI).
 * Returns 0, or the error of VMPTRLD.
 */
static int vmx_vcpu_load(struct hyvm_vcpu *vcpu, struct hyvm_vmx_vcpu *vx)
{
	struct hyvm_vmx_vm *vv = vcpu->vm->engine_priv;
	struct hyvm_vmx_cpu *c = this_cpu_ptr(&hyvm_vmx_cpus);
	int cpu = smp_processor_id();
	bool fresh = vx->cpu != cpu;
	struct desc_ptr gdt, idt;
	unsigned int i;
	u64 v;
	int ret;

	if (!fresh && c->current_vcpu == vx)
		return 0;
	if (fresh) {
		/*
		 * Active on another CPU: flushed to memory there.  Either
		 * way its launch state is clear before VMPTRLD here.
		 */
		if (vx->cpu >= 0)
			vmx_vmclear(vx);
		ret = hyvm_vmclear(vx->vmcs_pa);
		if (ret)
			return ret;
		vx->launched = false;
	}
	ret = hyvm_vmptrld(vx->vmcs_pa);
	if (ret)
		return ret;
	/* Branch predictions trained by another vCPU must not steer us. */
	indirect_branch_prediction_barrier();
	c->current_vcpu = vx;
	if (!fresh)
		return 0;
	vx->cpu = cpu;
	if (!vx->vmcs_ready) {
		vmx_init_vmcs(vcpu, vx);
		vx->vmcs_ready = true;
	}

	/* Per-CPU host state. */
	native_store_gdt(&gdt);
	store_idt(&idt);
	vmcs_write(HOST_GDTR_BASE, gdt.address);
	vmcs_write(HOST_IDTR_BASE, idt.address);
	vmcs_write(HOST_TR_BASE,
		   (unsigned long)&get_cpu_entry_area(cpu)->tss.x86_tss);
	rdmsrl(MSR_GS_BASE, v);
	vmcs_write(HOST_GS_BASE, v);
	rdmsrl(MSR_IA32_SYSENTER_CS, v);
	vmcs_write(HOST_IA32_SYSENTER_CS, v);
	rdmsrl(MSR_IA32_SYSENTER_ESP, v);
	vmcs_write(HOST_IA32_SYSENTER_ESP, v);
	rdmsrl(MSR_IA32_SYSENTER_EIP, v);
	vmcs_write(HOST_IA32_SYSENTER_EIP, v);
	rdmsrl(MSR_EFER, v);
	vmcs_write(HOST_IA32_EFER, v);
	for (i = 0; i < VMX_NR_AUTO_MSRS; i++)
		rdmsrl(vx->host_msrs[i].index, vx->host_msrs[i].value);

	/*
	 * Translations cached here under this VPID or this EPT root may be
	 * stale: from the vCPU's last stay here, or from a VM that had the
	 * same VPID or root page before.
	 */
	if (hyvm_vmx_conf.vpid)
		hyvm_invvpid(hyvm_vmx_conf.invvpid_type, vx->vpid);
	if (!vx->shadow)
		hyvm_invept(hyvm_vmx_conf.invept_type, vv->eptp);
	return 0;
}

/**
 * hyvm_vmx_sleep - let an exit handler sleep
 *
 * Exit handlers run with preemption off so that the VMCS stays current.
 * What may sleep (pinning guest pages, the shadow MMU's mutex, guest
 * memory through the VM creator's mappings) runs between hyvm_vmx_sleep()
 * and hyvm_vmx_wake(): the thread may come back on another CPU, where the
 * VMCS is made current again.
 */
void hyvm_vmx_sleep(void)
{
	preempt_enable();
}

/**
 * hyvm_vmx_wake - the VMCS current again after hyvm_vmx_sleep()
 * @vcpu: the vCPU
 * @vx: its vmx state
 *
 * Return: 0, or the error of VMPTRLD with an internal error set for
 * userspace (the handler returns VMX_USER).
 */
int hyvm_vmx_wake(struct hyvm_vcpu *vcpu, struct hyvm_vmx_vcpu *vx)
{
	int ret;

	preempt_disable();
	ret = vmx_vcpu_load(vcpu, vx);
	if (ret)
		hyvm_exit_internal(vcpu, HYVM_INTERNAL_NOT_READY, ret, 0);
	return ret;
}

/* ---- guest state: struct hyvm_vcpu <-> VMCS ---- */

struct vmx_seg_fields {
	u16 sel, base, limit, ar;
};

#define VMX_SEG(s) { GUEST_##s##_SELECTOR, GUEST_##s##_BASE,		\
		     GUEST_##s##_LIMIT, GUEST_##s##_AR_BYTES }

enum { SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS, SEG_TR, SEG_LDTR };

static const struct vmx_seg_fields vmx_segs[] = {
	[SEG_CS] = VMX_SEG(CS), [SEG_DS] = VMX_SEG(DS), [SEG_ES] = VMX_SEG(ES),
	[SEG_FS] = VMX_SEG(FS), [SEG_GS] = VMX_SEG(GS), [SEG_SS] = VMX_SEG(SS),
	[SEG_TR] = VMX_SEG(TR), [SEG_LDTR] = VMX_SEG(LDTR),
};

#define VMX_AR_UNUSABLE		BIT(16)

/*
 * One segment into the VMCS, made acceptable to the VM-entry checks where
 * the guest cannot tell the difference: the accessed bit of usable code
 * and data segments, G consistent with the limit, TR always usable and
 * busy, an LDTR of the wrong type unusable, virtual-8086 segments as that
 * mode has them.
 */
static void seg_to_vmcs(int idx, const struct hyvm_segment *s, bool v86,
			bool lma)
{
	const struct vmx_seg_fields *f = &vmx_segs[idx];
	u32 limit = s->limit, type = s->type, ar;
	bool g = s->g;

	vmcs_write(f->sel, s->selector);
	if (v86 && idx <= SEG_SS) {
		vmcs_write(f->base, (u64)s->selector << 4);
		vmcs_write(f->limit, 0xffff);
		vmcs_write(f->ar, 0xf3);
		return;
	}
	vmcs_write(f->base, s->base);
	vmcs_write(f->limit, limit);
	if ((limit & 0xfff) != 0xfff)
		g = false;
	if (limit > 0xfffff)
		g = true;
	if (idx == SEG_TR) {
		if (lma || type == 9 || type == 11)
			type = 11;
		else
			type = 3;
		ar = type | BIT(7) | (g ? BIT(15) : 0);
		vmcs_write(f->ar, ar);
		return;
	}
	if (s->unusable || !s->present ||
	    (idx == SEG_LDTR && (type != 2 || s->s))) {
		vmcs_write(f->ar, VMX_AR_UNUSABLE);
		return;
	}
	if (s->s)
		type |= 1;
	ar = type | (s->s ? BIT(4) : 0) | ((s->dpl & 3) << 5) | BIT(7) |
	     (s->avl ? BIT(12) : 0) | (s->l ? BIT(13) : 0) |
	     (s->db ? BIT(14) : 0) | (g ? BIT(15) : 0);
	vmcs_write(f->ar, ar);
}

static void seg_from_vmcs(struct hyvm_segment *s, int idx)
{
	const struct vmx_seg_fields *f = &vmx_segs[idx];
	u32 ar = vmcs_read(f->ar);

	memset(s, 0, sizeof(*s));
	s->selector = vmcs_read(f->sel);
	s->base = vmcs_read(f->base);
	s->limit = vmcs_read(f->limit);
	s->type = ar & 0xf;
	s->s = !!(ar & BIT(4));
	s->dpl = (ar >> 5) & 3;
	s->present = !!(ar & BIT(7));
	s->avl = !!(ar & BIT(12));
	s->l = !!(ar & BIT(13));
	s->db = !!(ar & BIT(14));
	s->g = !!(ar & BIT(15));
	s->unusable = !!(ar & VMX_AR_UNUSABLE);
	if (s->unusable)
		s->present = 0;
}

/**
 * hyvm_vmx_hw_cr0 - the CR0 the hardware runs the guest with
 * @c: the controls
 * @shadow: on shadow tables (WP forced on)
 * @cr0: the guest's CR0
 *
 * PE and PG are the guest's: unrestricted guest lets them be clear with
 * EPT, and on shadow tables the hardware runs only guests that have both.
 */
u64 hyvm_vmx_hw_cr0(const struct hyvm_vmx_config *c, bool shadow, u64 cr0)
{
	return (cr0 & ~(X86_CR0_CD | X86_CR0_NW)) | X86_CR0_NE |
	       (c->cr0_fixed0 & ~(X86_CR0_PE | X86_CR0_PG)) |
	       (shadow ? X86_CR0_WP : 0);
}
HYVM_EXPORT_FOR_TESTS(hyvm_vmx_hw_cr0);

/*
 * The CR4 the hardware runs the guest with: never a bit the CPU fixes to
 * 0 (on shadow tables the emulator, not vmx_set_cr4(), took the guest's
 * value).
 */
u64 hyvm_vmx_hw_cr4(const struct hyvm_vmx_config *c, u64 cr4)
{
	return ((cr4 & HYVM_GUEST_CR4) | c->cr4_fixed0 | X86_CR4_VMXE) &
	       c->cr4_fixed1;
}
HYVM_EXPORT_FOR_TESTS(hyvm_vmx_hw_cr4);

static u64 vmx_hw_cr0(struct hyvm_vmx_vcpu *vx, u64 cr0)
{
	return hyvm_vmx_hw_cr0(&hyvm_vmx_conf, vx->shadow, cr0);
}

static u64 vmx_hw_cr4(u64 cr4)
{
	return hyvm_vmx_hw_cr4(&hyvm_vmx_conf, cr4);
}

void hyvm_vmx_set_efer(u64 efer)
{
	u64 entry = hyvm_vmx_conf.entry & ~VM_ENTRY_IA32E_MODE;

	if (efer & EFER_LMA)
		entry |= VM_ENTRY_IA32E_MODE;
	vmcs_write(VM_ENTRY_CONTROLS, entry);
	vmcs_write(GUEST_IA32_EFER, efer);
}

static void vmx_load_state(struct hyvm_vcpu *vcpu, struct hyvm_vmx_vcpu *vx)
{
	const struct hyvm_sregs *sr = &vcpu->sregs;
	const struct hyvm_regs *r = &vcpu->regs;
	bool v86 = (sr->cr0 & X86_CR0_PE) && (r->rflags & X86_EFLAGS_VM);
	u64 efer = sr->efer & (HYVM_GUEST_EFER | EFER_LMA);
	bool lma = efer & EFER_LMA;
	u32 intr;

	seg_to_vmcs(SEG_CS, &sr->cs, v86, lma);
	seg_to_vmcs(SEG_DS, &sr->ds, v86, lma);
	seg_to_vmcs(SEG_ES, &sr->es, v86, lma);
	seg_to_vmcs(SEG_FS, &sr->fs, v86, lma);
	seg_to_vmcs(SEG_GS, &sr->gs, v86, lma);
	seg_to_vmcs(SEG_SS, &sr->ss, v86, lma);
	seg_to_vmcs(SEG_TR, &sr->tr, v86, lma);
	seg_to_vmcs(SEG_LDTR, &sr->ldt, v86, lma);
	vmcs_write(GUEST_GDTR_BASE, sr->gdt.base);
	vmcs_write(GUEST_GDTR_LIMIT, sr->gdt.limit);
	vmcs_write(GUEST_IDTR_BASE, sr->idt.base);
	vmcs_write(GUEST_IDTR_LIMIT, sr->idt.limit);
	vmcs_write(GUEST_CR0, vmx_hw_cr0(vx, sr->cr0));
	vmcs_write(CR0_READ_SHADOW, sr->cr0);
	vmcs_write(GUEST_CR3, sr->cr3);
	vmcs_write(GUEST_CR4, vmx_hw_cr4(sr->cr4));
	vmcs_write(CR4_READ_SHADOW, sr->cr4);
	vx->cr2 = sr->cr2;
	if (vx->shadow)
		hyvm_vmx_shadow_load(vx, sr);
	else
		hyvm_vmx_set_efer(efer);
	if (hyvm_vmx_conf.entry & VM_ENTRY_LOAD_IA32_PAT)
		vmcs_write(GUEST_IA32_PAT, vx->msrs.pat);

	vmcs_write(GUEST_RSP, r->rsp);
	vmcs_write(GUEST_RIP, r->rip);
	vmcs_write(GUEST_RFLAGS, r->rflags | X86_EFLAGS_FIXED);
	/* Blocking by STI needs IF; a pending single step needs BS. */
	intr = vmcs_read(GUEST_INTERRUPTIBILITY_INFO);
	if (!(r->rflags & X86_EFLAGS_IF))
		intr &= ~VMX_BLOCK_STI;
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, intr);
	vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS,
		   (intr & (VMX_BLOCK_STI | VMX_BLOCK_MOVSS)) &&
		   (r->rflags & X86_EFLAGS_TF) ? BIT(14) /* BS */ : 0);
	vx->gprs.r[VMX_RAX] = r->rax;
	vx->gprs.r[VMX_RCX] = r->rcx;
	vx->gprs.r[VMX_RDX] = r->rdx;
	vx->gprs.r[VMX_RBX] = r->rbx;
	vx->gprs.r[VMX_RSP] = r->rsp;
	vx->gprs.r[VMX_RBP] = r->rbp;
	vx->gprs.r[VMX_RSI] = r->rsi;
	vx->gprs.r[VMX_RDI] = r->rdi;
	vx->gprs.r[8] = r->r8;
	vx->gprs.r[9] = r->r9;
	vx->gprs.r[10] = r->r10;
	vx->gprs.r[11] = r->r11;
	vx->gprs.r[12] = r->r12;
	vx->gprs.r[13] = r->r13;
	vx->gprs.r[14] = r->r14;
	vx->gprs.r[15] = r->r15;
}

static void vmx_store_state(struct hyvm_vcpu *vcpu, struct hyvm_vmx_vcpu *vx)
{
	struct hyvm_sregs *sr = &vcpu->sregs;
	struct hyvm_regs *r = &vcpu->regs;

	seg_from_vmcs(&sr->cs, SEG_CS);
	seg_from_vmcs(&sr->ds, SEG_DS);
	seg_from_vmcs(&sr->es, SEG_ES);
	seg_from_vmcs(&sr->fs, SEG_FS);
	seg_from_vmcs(&sr->gs, SEG_GS);
	seg_from_vmcs(&sr->ss, SEG_SS);
	seg_from_vmcs(&sr->tr, SEG_TR);
	seg_from_vmcs(&sr->ldt, SEG_LDTR);
	/* The hardware keeps CS usable whatever the unusable bit says. */
	sr->cs.unusable = 0;
	sr->cs.present = 1;
	sr->gdt.base = vmcs_read(GUEST_GDTR_BASE);
	sr->gdt.limit = vmcs_read(GUEST_GDTR_LIMIT);
	sr->idt.base = vmcs_read(GUEST_IDTR_BASE);
	sr->idt.limit = vmcs_read(GUEST_IDTR_LIMIT);
	sr->cr0 = (vmcs_read(CR0_READ_SHADOW) & vx->cr0_mask) |
		  (vmcs_read(GUEST_CR0) & ~vx->cr0_mask);
	sr->cr2 = vx->cr2;
	sr->cr3 = vmcs_read(GUEST_CR3);
	sr->cr4 = vmcs_read(CR4_READ_SHADOW);
	sr->efer = vmcs_read(GUEST_IA32_EFER);
	if (vx->shadow)
		hyvm_vmx_shadow_store(vx, sr);

	r->rsp = vmcs_read(GUEST_RSP);
	r->rip = vmcs_read(GUEST_RIP);
	r->rflags = vmcs_read(GUEST_RFLAGS);
	r->rax = vx->gprs.r[VMX_RAX];
	r->rcx = vx->gprs.r[VMX_RCX];
	r->rdx = vx->gprs.r[VMX_RDX];
	r->rbx = vx->gprs.r[VMX_RBX];
	r->rbp = vx->gprs.r[VMX_RBP];
	r->rsi = vx->gprs.r[VMX_RSI];
	r->rdi = vx->gprs.r[VMX_RDI];
	r->r8 = vx->gprs.r[8];
	r->r9 = vx->gprs.r[9];
	r->r10 = vx->gprs.r[10];
	r->r11 = vx->gprs.r[11];
	r->r12 = vx->gprs.r[12];
	r->r13 = vx->gprs.r[13];
	r->r14 = vx->gprs.r[14];
	r->r15 = vx->gprs.r[15];
}

/* ---- exits ---- */

/* Past the instruction that exited; it ends any STI or MOV SS shadow. */
static void vmx_skip(void)
{
	vmcs_write(GUEST_RIP, vmcs_read(GUEST_RIP) +
		   vmcs_read(VM_EXIT_INSTRUCTION_LEN));
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO,
		   vmcs_read(GUEST_INTERRUPTIBILITY_INFO) &
		   ~(VMX_BLOCK_STI | VMX_BLOCK_MOVSS));
}

/* Queue a hardware exception for the next entry; real mode has no codes. */
void hyvm_vmx_inject(u8 vector, bool has_err, u32 err)
{
	u32 info = vector | (VMX_INTR_TYPE_HW_EXC << 8) | INTR_INFO_VALID_MASK;

	if (has_err && (vmcs_read(GUEST_CR0) & X86_CR0_PE)) {
		info |= INTR_INFO_DELIVER_CODE_MASK;
		vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, err);
	}
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, info);
}

static bool vmx_long_mode(void)
{
	return (vmcs_read(GUEST_IA32_EFER) & EFER_LMA) &&
	       (vmcs_read(GUEST_CS_AR_BYTES) & BIT(13));
}

struct vmx_exit {
	int (*handler)(struct hyvm_vcpu *vcpu, struct hyvm_vmx_vcpu *vx);
	u8 kind;		/* enum hyvm_hw_exit */
};

static int vmx_exit_resume(struct hyvm_vcpu *vcpu, struct hyvm_vmx_vcpu *vx)
{
	/* The host's handler for the interrupt ran right after the exit. */
	return VMX_RESUME;
}

static int vmx_exit_cpuid(struct hyvm_vcpu *vcpu, struct hyvm_vmx_vcpu *vx)
{
	u64 *g = vx->gprs.r;
	u32 out[4];

	hyvm_cpuid(vcpu, g[VMX_RAX], g[VMX_RCX], out);
	g[VMX_RAX] = out[0];
	g[VMX_RBX] = out[1];
	g[VMX_RCX] = out[2];
	g[VMX_RDX] = out[3];
	vmx_skip();
	return VMX_RESUME;
}

/* HYVM_INTERNAL_EMULATION: the linear RIP and the instruction's bytes. */
static void vmx_not_emulated(struct hyvm_vcpu *vcpu, struct hyvm_vmx_vcpu *vx)
{
	struct x86_emu *e = &vx->emu.emu;
	u64 la, bytes = 0;

	vmx_store_state(vcpu, vx);
	la = vcpu->sregs.cs.base + vcpu->regs.rip;
	hyvm_emu_load(&vx->emu);
	hyvm_vmx_sleep();
	e->ops->read(e, la, &bytes, sizeof(bytes), true);
	if (hyvm_vmx_wake(vcpu, vx))
		return;
	hyvm_exit_internal(vcpu, HYVM_INTERNAL_EMULATION, la, bytes);
}

/*
 * Emulate the instruction at RIP with virt/emulate: an access to
 * guest-physical memory that is not RAM (MMIO, handed to userspace through
 * run->mmio), or string I/O (through run->io, one element per exit).  A
 * read leaves the instruction undone; the next HYVM_RUN re-enters the
 * guest, which exits again at the same instruction, and the emulator then
 * finds the data userspace supplied (hyvm_emu_resume()).  A write
 * completes and then returns to userspace.  @what is for the internal
 * error that reports an instruction the emulator cannot do.
 */
static int vmx_emulate(struct hyvm_vcpu *vcpu, struct hyvm_vmx_vcpu *vx,
		       u64 what)
{
	struct hyvm_emu_ctx *ctx = &vx->emu;
	struct x86_emu *e = &ctx->emu;
	enum x86_emu_result res;
	u32 intr;

	vmx_store_state(vcpu, vx);
	hyvm_emu_load(ctx);
	hyvm_vmx_sleep();
	res = x86_emulate(e);
	if (hyvm_vmx_wake(vcpu, vx))
		return VMX_USER;
	if (ctx->mem_error) {
		ctx->mem_error = false;
		hyvm_exit_internal(vcpu, HYVM_INTERNAL_MEMORY, e->rip, what);
		return VMX_USER;
	}
	switch (res) {
	case X86_EMU_OK:
		hyvm_emu_insn_done(ctx);
		hyvm_emu_store(ctx);
		vmx_load_state(vcpu, vx);
		intr = vmcs_read(GUEST_INTERRUPTIBILITY_INFO) &
		       ~(VMX_BLOCK_STI | VMX_BLOCK_MOVSS);
		if (e->shadow)
			intr |= VMX_BLOCK_MOVSS;
		vmcs_write(GUEST_INTERRUPTIBILITY_INFO, intr);
		return ctx->exit_after ? VMX_USER : VMX_RESUME;
	case X86_EMU_EXIT:
		/*
		 * An MMIO read or an IN waits for userspace (run is set); a
		 * rep string instruction may have done some iterations.
		 */
		if (vcpu->run->exit_reason == HYVM_EXIT_NONE)
			break;
		hyvm_emu_store(ctx);
		vmx_load_state(vcpu, vx);
		return VMX_USER;
	case X86_EMU_EXCEPTION:
		if (e->exc.vector == X86_EXC_PF)
			vx->cr2 = e->exc.cr2;
		hyvm_vmx_inject(e->exc.vector, e->exc.has_error, e->exc.error);
		return VMX_RESUME;
	default:
		break;
	}
	vmx_not_emulated(vcpu, vx);
	return VMX_USER;
}

static int vmx_exit_hlt(struct hyvm_vcpu *vcpu, struct hyvm_vmx_vcpu *vx)
{
	/*
	 * Nothing in the kernel can interrupt the guest yet (no local APIC),
	 * so HLT always goes to userspace, past the instruction.
	 */
	vmx_skip();
	hyvm_exit_hlt(vcpu);
	return VMX_USER;
}

/*
 * IN and OUT.  String I/O goes through the emulator, which hands one
 * element per exit to userspace and keeps RSI/RDI/RCX right.
 */
static int vmx_exit_io(struct hyvm_vcpu *vcpu, struct hyvm_vmx_vcpu *vx)
{
	u64 q = vmcs_read(EXIT_QUALIFICATION);
	u8 size = (q & 7) + 1;
	bool in = q & BIT(3);
	u16 port = q >> 16;

	if (q & BIT(4))
		return vmx_emulate(vcpu, vx, q);
	if (size != 1 && size != 2 && size != 4) {
		hyvm_exit_internal(vcpu, HYVM_INTERNAL_UNKNOWN_EXIT,
				   EXIT_REASON_IO_INSTRUCTION, q);
		return VMX_USER;
	}
	hyvm_exit_io(vcpu, in, port, size, vx->gprs.r[VMX_RAX]);
	if (in) {
		vx->io_in_pending = true;
		vx->io_in_size = size;
		vx->io_in_next_rip = vmcs_read(GUEST_RIP) +
				     vmcs_read(VM_EXIT_INSTRUCTION_LEN);
		vmcs_write(GUEST_INTERRUPTIBILITY_INFO,
			   vmcs_read(GUEST_INTERRUPTIBILITY_INFO) &
			   ~(VMX_BLOCK_STI | VMX_BLOCK_MOVSS));
	} else {
		vmx_skip();
	}
	return VMX_USER;
}

/* EFER as the guest sees it: on shadow tables the hardware's has NXE. */
static u64 vmx_guest_efer(struct hyvm_vmx_vcpu *vx)
{
	return vx->shadow ? vx->sh.efer : vmcs_read(GUEST_IA32_EFER);
}

static int vmx_wrmsr_efer(struct hyvm_vmx_vcpu *vx, u64 val)
{
	u64 efer = vmx_guest_efer(vx);

	if (val & ~(u64)(HYVM_GUEST_EFER | EFER_LMA))
		return -EPERM;
	/* LME may change only while paging is off. */
	if ((vmcs_read(GUEST_CR0) & X86_CR0_PG) && ((val ^ efer) & EFER_LME))
		return -EPERM;
	val = (val & HYVM_GUEST_EFER) | (efer & EFER_LMA);
	if (vx->shadow)
		hyvm_vmx_shadow_set_efer(vx, val);
	else
		hyvm_vmx_set_efer(val);
	return 0;
}

static int vmx_exit_msr(struct hyvm_vcpu *vcpu, struct hyvm_vmx_vcpu *vx)
{
	bool write = vmcs_read(VM_EXIT_REASON) == EXIT_REASON_MSR_WRITE;
	u64 *g = vx->gprs.r;
	u32 msr = g[VMX_RCX];
	u64 val;
	int ret;

	if (write) {
		val = (u32)g[VMX_RAX] | (g[VMX_RDX] << 32);
		if (msr == MSR_EFER) {
			ret = vmx_wrmsr_efer(vx, val);
		} else {
			ret = hyvm_msr_set(vcpu, &vx->msrs, msr, val);
			if (!ret && msr == MSR_IA32_CR_PAT &&
			    (hyvm_vmx_conf.entry & VM_ENTRY_LOAD_IA32_PAT))
				vmcs_write(GUEST_IA32_PAT, val);
		}
	} else if (msr == MSR_EFER) {
		val = vmx_guest_efer(vx);
		ret = 0;
	} else {
		ret = hyvm_msr_get(vcpu, &vx->msrs, msr, &val);
	}
	if (ret) {
		hyvm_vmx_inject(X86_TRAP_GP, true, 0);
		return VMX_RESUME;
	}
	if (!write) {
		g[VMX_RAX] = (u32)val;
		g[VMX_RDX] = val >> 32;
	}
	vmx_skip();
	return VMX_RESUME;
}

/* MOV to CR0 (and LMSW, CLTS): paging, long mode, caching. */
static int vmx_set_cr0(struct hyvm_vmx_vcpu *vx, u64 val)
{
	u64 old = (vmcs_read(CR0_READ_SHADOW) & vx->cr0_mask) |
		  (vmcs_read(GUEST_CR0) & ~vx->cr0_mask);
	u64 efer = vmcs_read(GUEST_IA32_EFER);

	val |= X86_CR0_ET;
	if ((val >> 32) || ((val & X86_CR0_PG) && !(val & X86_CR0_PE)) ||
	    ((val & X86_CR0_NW) && !(val & X86_CR0_CD)))
		return -EPERM;
	if ((val & X86_CR0_PG) && !(old & X86_CR0_PG) && (efer & EFER_LME)) {
		if (!(vmcs_read(CR4_READ_SHADOW) & X86_CR4_PAE))
			return -EPERM;
		hyvm_vmx_set_efer(efer | EFER_LMA);
	} else if (!(val & X86_CR0_PG) && (old & X86_CR0_PG) &&
		   (efer & EFER_LMA)) {
		hyvm_vmx_set_efer(efer & ~EFER_LMA);
	}
	vmcs_write(GUEST_CR0, vmx_hw_cr0(vx, val));
	vmcs_write(CR0_READ_SHADOW, val);
	return 0;
}

static int vmx_set_cr4(struct hyvm_vmx_vcpu *vx, u64 val)
{
	u64 old = vmcs_read(CR4_READ_SHADOW);

	if (val & ~(u64)HYVM_GUEST_CR4 & ~hyvm_vmx_conf.cr4_fixed0)
		return -EPERM;
	if (val & ~hyvm_vmx_conf.cr4_fixed1)
		return -EPERM;
	/* Long mode needs PAE. */
	if ((vmcs_read(GUEST_IA32_EFER) & EFER_LMA) && !(val & X86_CR4_PAE))
		return -EPERM;
	vmcs_write(GUEST_CR4, vmx_hw_cr4(val));
	vmcs_write(CR4_READ_SHADOW, val);
	/* PGE or PAE changes flush this guest's TLB, as on the hardware. */
	if (((old ^ val) & (X86_CR4_PGE | X86_CR4_PAE | X86_CR4_SMEP)) &&
	    hyvm_vmx_conf.vpid)
		hyvm_invvpid(hyvm_vmx_conf.invvpid_type, vx->vpid);
	return 0;
}

/* Control-register accesses that exit: CR0 and CR4 writes, CR8, LMSW. */
static int vmx_exit_cr(struct hyvm_vcpu *vcpu, struct hyvm_vmx_vcpu *vx)
{
	u64 q = vmcs_read(EXIT_QUALIFICATION);
	unsigned int cr = q & 15, type = (q >> 4) & 3, gpr = (q >> 8) & 15;
	u64 *g = vx->gprs.r, val;
	int ret = -EPERM;

	/*
	 * On shadow tables CR0, CR3 and CR4 are virtual: the emulator does
	 * what the CPU would, and loading the state computes the rest.
	 */
	if (vx->shadow && (cr != 8 || type > 1))
		return vmx_emulate(vcpu, vx, q);
	g[VMX_RSP] = vmcs_read(GUEST_RSP);
	val = vmx_long_mode() ? g[gpr] : (u32)g[gpr];
	switch (type) {
	case 0:				/* MOV to CR */
		if (cr == 0)
			ret = vmx_set_cr0(vx, val);
		else if (cr == 4)
			ret = vmx_set_cr4(vx, val);
		else if (cr == 8 && !(val & ~0xfULL)) {
			vcpu->sregs.cr8 = val;
			ret = 0;
		}
		break;
	case 1:				/* MOV from CR: only CR8 exits */
		if (cr == 8) {
			g[gpr] = vcpu->sregs.cr8;
			if (gpr == VMX_RSP)
				vmcs_write(GUEST_RSP, g[gpr]);
			ret = 0;
		}
		break;
	case 2:				/* CLTS: TS is the guest's */
		ret = vmx_set_cr0(vx, vmcs_read(CR0_READ_SHADOW) & ~X86_CR0_TS);
		break;
	case 3:				/* LMSW: sets PE, never clears it */
		val = (q >> 16) & 0xf;
		ret = vmx_set_cr0(vx, (vmcs_read(CR0_READ_SHADOW) & ~0xeULL) |
				  val);
		break;
	}
	if (ret) {
		hyvm_vmx_inject(X86_TRAP_GP, true, 0);
		return VMX_RESUME;
	}
	vmx_skip();
	return VMX_RESUME;
}

/*
 * MOV to or from a debug register: the guest's debug registers are
 * virtual, so that no guest breakpoint is ever armed in the hardware
 * (VM exit does not switch DR0-DR3).
 */
static int vmx_exit_dr(struct hyvm_vcpu *vcpu, struct hyvm_vmx_vcpu *vx)
{
	u64 q = vmcs_read(EXIT_QUALIFICATION);
	unsigned int dr = q & 7, gpr = (q >> 8) & 15;
	bool read = q & BIT(4), lm = vmx_long_mode();
	u64 *g = vx->gprs.r, val;

	/*
	 * CPL > 0 is #GP(0) before any exit on the CPU; an emulated CPU
	 * (Bochs) may still report the exit, and ring 3 must not get the
	 * debug registers either way.
	 */
	if ((vmcs_read(GUEST_SS_AR_BYTES) >> 5) & 3) {
		hyvm_vmx_inject(X86_TRAP_GP, true, 0);
		return VMX_RESUME;
	}
	if ((dr == 4 || dr == 5) && (vmcs_read(CR4_READ_SHADOW) & X86_CR4_DE)) {
		hyvm_vmx_inject(X86_TRAP_UD, false, 0);
		return VMX_RESUME;
	}
	if (dr == 4 || dr == 5)
		dr += 2;
	g[VMX_RSP] = vmcs_read(GUEST_RSP);
	if (!read) {
		val = lm ? g[gpr] : (u32)g[gpr];
		if (dr >= 6 && (val >> 32)) {
			hyvm_vmx_inject(X86_TRAP_GP, true, 0);
			return VMX_RESUME;
		}
		if (dr < 4)
			vx->dr[dr] = val;
		else if (dr == 6)
			vx->dr6 = (val & 0xf00f) | 0xffff0ff0;
		else
			vx->dr7 = (val & 0xffff2bff) | 0x400;
	} else {
		val = dr < 4 ? vx->dr[dr] : dr == 6 ? vx->dr6 : vx->dr7;
		g[gpr] = lm ? val : (u32)val;
		if (gpr == VMX_RSP)
			vmcs_write(GUEST_RSP, g[gpr]);
	}
	vmx_skip();
	return VMX_RESUME;
}

static int vmx_exit_ept_violation(struct hyvm_vcpu *vcpu,
				  struct hyvm_vmx_vcpu *vx)
{
	struct hyvm_vmx_vm *vv = vcpu->vm->engine_priv;
	u64 q = vmcs_read(EXIT_QUALIFICATION);
	u64 gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);
	bool mmio;
	int ret;

	hyvm_vmx_sleep();
	ret = hyvm_npt_map(vcpu->vm, &vv->ept, gpa, q & BIT(1), &mmio);
	if (hyvm_vmx_wake(vcpu, vx))
		return VMX_USER;
	if (ret) {
		hyvm_exit_internal(vcpu, HYVM_INTERNAL_MEMORY,
				   vmcs_read(GUEST_RIP), gpa);
		return ret;
	}
	if (mmio)
		return vmx_emulate(vcpu, vx, gpa);
	return VMX_RESUME;
}

static int vmx_exit_ept_misconfig(struct hyvm_vcpu *vcpu,
				  struct hyvm_vmx_vcpu *vx)
{
	/* hyvm wrote an entry the CPU does not take: a bug, not the guest's. */
	pr_warn_ratelimited("EPT misconfiguration at GPA %#llx\n",
			    vmcs_read(GUEST_PHYSICAL_ADDRESS));
	hyvm_exit_internal(vcpu, HYVM_INTERNAL_UNKNOWN_EXIT,
			   EXIT_REASON_EPT_MISCONFIG,
			   vmcs_read(GUEST_PHYSICAL_ADDRESS));
	return VMX_USER;
}

static int vmx_exit_shutdown(struct hyvm_vcpu *vcpu, struct hyvm_vmx_vcpu *vx)
{
	/* Triple fault: the vCPU is dead, and every later HYVM_RUN says so. */
	vx->shutdown = true;
	hyvm_exit_shutdown(vcpu, vmcs_read(GUEST_RIP));
	return VMX_USER;
}

static int vmx_exit_ud(struct hyvm_vcpu *vcpu, struct hyvm_vmx_vcpu *vx)
{
	/* VMX instructions, VMCALL, GETSEC, MONITOR/MWAIT, XSETBV: hidden. */
	hyvm_vmx_inject(X86_TRAP_UD, false, 0);
	return VMX_RESUME;
}

static int vmx_exit_gp(struct hyvm_vcpu *vcpu, struct hyvm_vmx_vcpu *vx)
{
	/* RDPMC: no performance counters for the guest. */
	hyvm_vmx_inject(X86_TRAP_GP, true, 0);
	return VMX_RESUME;
}

static int vmx_exit_cache(struct hyvm_vcpu *vcpu, struct hyvm_vmx_vcpu *vx)
{
	/*
	 * INVD would throw away host data in the caches; WBINVD costs the
	 * whole machine.  Guest memory is ordinary host memory: both are
	 * no-ops for the guest.
	 */
	vmx_skip();
	return VMX_RESUME;
}

/* Exception or NMI: a host NMI is handed to the host's handler. */
static int vmx_exit_exception(struct hyvm_vcpu *vcpu, struct hyvm_vmx_vcpu *vx)
{
	u32 info = vmcs_read(VM_EXIT_INTR_INFO);
	u32 type = (info & INTR_INFO_INTR_TYPE_MASK) >> 8;

	if (type == VMX_INTR_TYPE_NMI)
		return VMX_RESUME;	/* delivered in vmx_enter() */
	if (vx->shadow && type == VMX_INTR_TYPE_HW_EXC &&
	    (info & INTR_INFO_VECTOR_MASK) == X86_TRAP_PF) {
		int ret = hyvm_vmx_shadow_pf(vcpu, vx);

		if (ret == VMX_EMULATE)
			return vmx_emulate(vcpu, vx,
					   vmcs_read(EXIT_QUALIFICATION));
		return ret;
	}
	/*
	 * #DB and #AC are intercepted only to keep the CPU: pass them on as
	 * they came.  INT1 (ICEBP) is a software event, delivered past the
	 * instruction.
	 */
	if (info & INTR_INFO_DELIVER_CODE_MASK)
		vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE,
			   vmcs_read(VM_EXIT_INTR_ERROR_CODE));
	if (type == VMX_INTR_TYPE_PRIV_SW || type == VMX_INTR_TYPE_SOFT_EXC)
		vmcs_write(VM_ENTRY_INSTRUCTION_LEN,
			   vmcs_read(VM_EXIT_INSTRUCTION_LEN));
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, info & ~INTR_INFO_RESVD_BITS_MASK);
	return VMX_RESUME;
}

static int vmx_exit_not_emulated(struct hyvm_vcpu *vcpu,
				 struct hyvm_vmx_vcpu *vx)
{
	/* Task switches: not emulated yet; the guest stops with its RIP. */
	vmx_not_emulated(vcpu, vx);
	return VMX_USER;
}

static const struct vmx_exit vmx_exits[] = {
	[EXIT_REASON_EXCEPTION_NMI]	= { vmx_exit_exception, HYVM_HWX_EXCEPTION },
	[EXIT_REASON_EXTERNAL_INTERRUPT] = { vmx_exit_resume, HYVM_HWX_INTR },
	[EXIT_REASON_TRIPLE_FAULT]	= { vmx_exit_shutdown, HYVM_HWX_SHUTDOWN },
	[EXIT_REASON_INIT_SIGNAL]	= { vmx_exit_resume, HYVM_HWX_INTR },
	[EXIT_REASON_SIPI_SIGNAL]	= { vmx_exit_resume, HYVM_HWX_INTR },
	[EXIT_REASON_TASK_SWITCH]	= { vmx_exit_not_emulated, HYVM_HWX_OTHER },
	[EXIT_REASON_CPUID]		= { vmx_exit_cpuid, HYVM_HWX_CPUID },
	[EXIT_REASON_HLT]		= { vmx_exit_hlt, HYVM_HWX_HLT },
	[EXIT_REASON_INVD]		= { vmx_exit_cache, HYVM_HWX_CACHE },
	[EXIT_REASON_RDPMC]		= { vmx_exit_gp, HYVM_HWX_UD },
	[EXIT_REASON_VMCALL]		= { vmx_exit_ud, HYVM_HWX_UD },
	[EXIT_REASON_VMCLEAR]		= { vmx_exit_ud, HYVM_HWX_UD },
	[EXIT_REASON_VMLAUNCH]		= { vmx_exit_ud, HYVM_HWX_UD },
	[EXIT_REASON_VMPTRLD]		= { vmx_exit_ud, HYVM_HWX_UD },
	[EXIT_REASON_VMPTRST]		= { vmx_exit_ud, HYVM_HWX_UD },
	[EXIT_REASON_VMREAD]		= { vmx_exit_ud, HYVM_HWX_UD },
	[EXIT_REASON_VMRESUME]		= { vmx_exit_ud, HYVM_HWX_UD },
	[EXIT_REASON_VMWRITE]		= { vmx_exit_ud, HYVM_HWX_UD },
	[EXIT_REASON_VMOFF]		= { vmx_exit_ud, HYVM_HWX_UD },
	[EXIT_REASON_VMON]		= { vmx_exit_ud, HYVM_HWX_UD },
	[EXIT_REASON_CR_ACCESS]		= { vmx_exit_cr, HYVM_HWX_OTHER },
	[EXIT_REASON_DR_ACCESS]		= { vmx_exit_dr, HYVM_HWX_OTHER },
	[EXIT_REASON_IO_INSTRUCTION]	= { vmx_exit_io, HYVM_HWX_IO },
	[EXIT_REASON_MSR_READ]		= { vmx_exit_msr, HYVM_HWX_MSR },
	[EXIT_REASON_MSR_WRITE]		= { vmx_exit_msr, HYVM_HWX_MSR },
	[EXIT_REASON_MWAIT_INSTRUCTION]	= { vmx_exit_ud, HYVM_HWX_UD },
	[EXIT_REASON_MONITOR_INSTRUCTION] = { vmx_exit_ud, HYVM_HWX_UD },
	[EXIT_REASON_EPT_VIOLATION]	= { vmx_exit_ept_violation, HYVM_HWX_NPF },
	[EXIT_REASON_EPT_MISCONFIG]	= { vmx_exit_ept_misconfig, HYVM_HWX_NPF },
	[EXIT_REASON_INVEPT]		= { vmx_exit_ud, HYVM_HWX_UD },
	[EXIT_REASON_INVVPID]		= { vmx_exit_ud, HYVM_HWX_UD },
	[EXIT_REASON_WBINVD]		= { vmx_exit_cache, HYVM_HWX_CACHE },
	[EXIT_REASON_PREEMPTION_TIMER]	= { vmx_exit_resume, HYVM_HWX_INTR },
	[EXIT_REASON_XSETBV]		= { vmx_exit_ud, HYVM_HWX_UD },
	[EXIT_REASON_VMFUNC]		= { vmx_exit_ud, HYVM_HWX_UD },
	[11 /* GETSEC */]		= { vmx_exit_ud, HYVM_HWX_UD },
};

/*
 * An event whose delivery was cut short by the exit (an EPT violation on
 * the IDT or the stack, say) must be delivered again.  Software interrupts
 * and software exceptions are not reinjected: RIP still points at the
 * instruction, which raises them again when it re-executes.
 */
static void vmx_requeue_event(void)
{
	u32 info = vmcs_read(IDT_VECTORING_INFO_FIELD);
	u32 type = (info & INTR_INFO_INTR_TYPE_MASK) >> 8;

	if (!(info & INTR_INFO_VALID_MASK))
		return;
	if (type == VMX_INTR_TYPE_SOFT || type == VMX_INTR_TYPE_PRIV_SW ||
	    type == VMX_INTR_TYPE_SOFT_EXC)
		return;
	if (info & INTR_INFO_DELIVER_CODE_MASK)
		vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE,
			   vmcs_read(IDT_VECTORING_ERROR_CODE));
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, info & ~INTR_INFO_RESVD_BITS_MASK);
}

/*
 * VM entry failed: VMLAUNCH/VMRESUME itself (@insn_error, the
 * VM-instruction error) or the checks of the guest state (an exit reason
 * with bit 31 set).  Userspace gets HYVM_EXIT_FAIL_ENTRY with the reason.
 */
static int vmx_fail_entry(struct hyvm_vcpu *vcpu, u64 reason, u64 qual)
{
	hyvm_exit_record(vcpu, HYVM_HWX_FAIL, reason, vmcs_read(GUEST_RIP),
			 qual, 0);
	vcpu->run->exit_reason = HYVM_EXIT_FAIL_ENTRY;
	vcpu->run->fail_entry.hardware_reason = reason;
	return VMX_USER;
}

static int vmx_handle_exit(struct hyvm_vcpu *vcpu, struct hyvm_vmx_vcpu *vx)
{
	u32 reason = vmcs_read(VM_EXIT_REASON);
	u16 basic = reason;
	const struct vmx_exit *e = NULL;
	u64 q;

	if (reason & VMX_EXIT_REASONS_FAILED_VMENTRY)
		return vmx_fail_entry(vcpu, reason,
				      vmcs_read(EXIT_QUALIFICATION));
	vmx_requeue_event();
	if (basic < ARRAY_SIZE(vmx_exits) && vmx_exits[basic].handler)
		e = &vmx_exits[basic];
	q = vmcs_read(EXIT_QUALIFICATION);
	hyvm_exit_record(vcpu, e ? e->kind : HYVM_HWX_OTHER, basic,
			 vmcs_read(GUEST_RIP), q,
			 basic == EXIT_REASON_EPT_VIOLATION ?
			 vmcs_read(GUEST_PHYSICAL_ADDRESS) :
			 vmcs_read(VM_EXIT_INTR_INFO));
	if (!e) {
		hyvm_exit_internal(vcpu, HYVM_INTERNAL_UNKNOWN_EXIT, basic, q);
		return VMX_USER;
	}
	return e->handler(vcpu, vx);
}

/* ---- the run loop ---- */

/*
 * The data of an IN that userspace completed, into RAX; past the IN.
 * Runs at the start of HYVM_RUN, on the registers in vcpu->regs.
 */
static void vmx_io_in_complete(struct hyvm_vcpu *vcpu, struct hyvm_vmx_vcpu *vx)
{
	vx->io_in_pending = false;
	vcpu->regs.rax = hyvm_exit_io_in_done(vcpu, vx->io_in_size,
					      vcpu->regs.rax);
	vcpu->regs.rip = vx->io_in_next_rip;
}

/*
 * Host state that VM exit does not restore, or restores only partly: the
 * data segment selectors and LDT (reset to null), the GDT and IDT limits
 * (set to 0xffff), the TSS limit (0x67, which cuts off the I/O bitmap),
 * DR7 and DEBUGCTL (cleared).  Saved before entry, put back after.
 */
struct vmx_host_state {
	u16 ds, es, fs, gs, ldt;
	struct desc_ptr gdt, idt;
	u64 debugctl;
};

static void vmx_host_save(struct vmx_host_state *h)
{
	savesegment(ds, h->ds);
	savesegment(es, h->es);
	savesegment(fs, h->fs);
	savesegment(gs, h->gs);
	h->ldt = 0;
	asm volatile("sldt %0" : "=g" (h->ldt));
	native_store_gdt(&h->gdt);
	store_idt(&h->idt);
	h->debugctl = get_debugctlmsr();
}

static void vmx_host_restore(const struct vmx_host_state *h)
{
	unsigned long dr7;

	if (h->ldt)
		asm volatile("lldt %0" : : "rm" (h->ldt));
	if (h->ds | h->es) {
		loadsegment(ds, h->ds);
		loadsegment(es, h->es);
	}
	/*
	 * A non-null FS or GS selector of the host thread would reload its
	 * base: such threads (32-bit TLS) keep the selector only, which is
	 * what the kernel itself does on a context switch.
	 */
	if (h->fs)
		pr_warn_once("host thread with FS selector %#x: not restored\n",
			     h->fs);
	native_load_gdt(&h->gdt);
	native_load_idt(&h->idt);
	invalidate_tss_limit();
	if (h->debugctl)
		update_debugctlmsr(h->debugctl);
	/* VM exit leaves DR7 at 0x400: the host's breakpoints come back. */
	if (hw_breakpoint_active()) {
		hw_breakpoint_restore();
	} else {
		get_debugreg(dr7, 7);
		if (dr7 & (DR_LOCAL_ENABLE_MASK | DR_GLOBAL_ENABLE_MASK))
			set_debugreg(0, 7);
	}
}

/*
 * A host interrupt or NMI that ended guest execution: acknowledged by the
 * exit (so that none is lost between the exit and the host's handler), it
 * is handed to the host's handler for its vector, found in the host IDT.
 * Interrupts are off.
 */
static void vmx_host_interrupt(const struct vmx_host_state *h)
{
	u32 reason = vmcs_read(VM_EXIT_REASON), info, type;
	const gate_desc *gate;

	if (reason != EXIT_REASON_EXTERNAL_INTERRUPT &&
	    reason != EXIT_REASON_EXCEPTION_NMI)
		return;
	info = vmcs_read(VM_EXIT_INTR_INFO);
	type = (info & INTR_INFO_INTR_TYPE_MASK) >> 8;
	if (!(info & INTR_INFO_VALID_MASK))
		return;
	if (reason == EXIT_REASON_EXCEPTION_NMI && type != VMX_INTR_TYPE_NMI)
		return;
	gate = (const gate_desc *)h->idt.address + (info & INTR_INFO_VECTOR_MASK);
	hyvm_host_interrupt(gate_offset(gate));
}

/* One guest entry.  Returns 0, or a negative errno when VMX is not ours. */
static int vmx_enter(struct hyvm_vcpu *vcpu, struct hyvm_vmx_vcpu *vx,
		     bool *vmfail)
{
	struct vmx_host_state h;
	u64 v;
	int ret;

	preempt_disable();
	/* The guest's FPU state goes back into the registers if it left. */
	if (test_thread_flag(TIF_NEED_FPU_LOAD))
		switch_fpu_return();
	/* A CPU that came online since the first VM, or was reset. */
	local_irq_disable();
	ret = vmx_cpu_enable();
	local_irq_enable();
	if (ret)
		goto out_preempt;
	ret = vmx_vcpu_load(vcpu, vx);
	if (ret)
		goto out_preempt;
	local_irq_disable();

	vmx_host_save(&h);
	if (hyvm_vmx_conf.pin & PIN_BASED_VMX_PREEMPTION_TIMER)
		vmcs_write(VMX_PREEMPTION_TIMER_VALUE, hyvm_vmx_conf.preempt_ticks);
	vmcs_write(HOST_CR3, __read_cr3());
	vmcs_write(HOST_CR4, __read_cr4());
	rdmsrl(MSR_FS_BASE, v);
	vmcs_write(HOST_FS_BASE, v);
	/* The host thread's user GS base, and the guest's MSRs, reloaded. */
	rdmsrl(MSR_KERNEL_GS_BASE, vx->host_msrs[VMX_AUTO_KERNEL_GS_BASE].value);
	vx->guest_msrs[VMX_AUTO_TSC_AUX].value = vx->msrs.tsc_aux;
	/* Host breakpoints must not fire in the guest. */
	if (hw_breakpoint_active())
		set_debugreg(0, 7);
	if (native_read_cr2() != vx->cr2)
		native_write_cr2(vx->cr2);
	/*
	 * hyvm took mappings away (tlb.c): with EPT, guest-physical ones
	 * live here; on shadow tables the linear ones of the vCPU's VPID,
	 * which must also go when the shadow root changed.
	 */
	if (vx->shadow)
		hyvm_vmx_shadow_tlb(vx, hyvm_tlb_enter(vcpu));
	else if (hyvm_tlb_enter(vcpu))
		hyvm_invept(hyvm_vmx_conf.invept_type,
			    ((struct hyvm_vmx_vm *)vcpu->vm->engine_priv)->eptp);

	*vmfail = hyvm_vmx_vmenter(&vx->gprs, vx->launched);
	hyvm_tlb_exit(vcpu);
	if (!*vmfail)
		vx->launched = true;

	vx->cr2 = native_read_cr2();
	vmx_host_restore(&h);
	if (!*vmfail)
		vmx_host_interrupt(&h);
	local_irq_enable();
out_preempt:
	preempt_enable();
	return ret;
}

/*
 * ept=0: run the guest in the interpreter while the hardware cannot run
 * it on shadow tables.  Returns VMX_RESUME to enter the guest, -EOPNOTSUPP
 * to look again (the interpreter ran and the guest is now in long mode
 * with paging), VMX_USER with an exit for userspace, or -EINTR.  Sleeps:
 * preemption is on.
 */
static int vmx_shadow_enter(struct hyvm_vcpu *vcpu, struct hyvm_vmx_vcpu *vx)
{
	int ret = hyvm_shost_hw_root(vcpu, &vx->sh, vx->emu.maxphyaddr);

	if (!ret)
		return VMX_RESUME;	/* into GUEST_CR3 in vmx_enter() */
	if (ret != -EOPNOTSUPP) {
		hyvm_exit_internal(vcpu, HYVM_INTERNAL_MEMORY,
				   vcpu->regs.rip, -ret);
		return VMX_USER;
	}
	preempt_disable();
	ret = vmx_vcpu_load(vcpu, vx);
	if (!ret) {
		vmx_store_state(vcpu, vx);
		/* What the hardware had pending is the interpreter's now. */
		vmcs_write(VM_ENTRY_INTR_INFO_FIELD, 0);
	}
	preempt_enable();
	if (ret) {
		hyvm_exit_internal(vcpu, HYVM_INTERNAL_NOT_READY, ret, 0);
		return VMX_USER;
	}
	ret = hyvm_interp_run(vcpu, &vx->emu, &vx->sh.interp,
			      hyvm_shost_hw_can_run);
	preempt_disable();
	if (!vmx_vcpu_load(vcpu, vx))
		vmx_load_state(vcpu, vx);
	preempt_enable();
	return ret == 1 ? -EOPNOTSUPP : ret;
}

static int vmx_vcpu_run(struct hyvm_vcpu *vcpu)
{
	struct hyvm_vmx_vcpu *vx = vcpu->engine_priv;
	struct hyvm_run *run = vcpu->run;
	bool vmfail;
	int ret;

	if (vx->shutdown) {
		hyvm_exit_shutdown(vcpu, vcpu->regs.rip);
		return 0;
	}
	if (vx->io_in_pending)
		vmx_io_in_complete(vcpu, vx);
	/* Data userspace supplied for an emulated MMIO read or string IN. */
	hyvm_emu_resume(&vx->emu);
	/*
	 * The VMCS must be current to load the state into it: make it so,
	 * and keep it so until the state is read back, reloading it on
	 * whatever CPU the thread runs (vmx_vcpu_load() is a no-op when
	 * it still is).
	 */
	preempt_disable();
	ret = vmx_vcpu_load(vcpu, vx);
	if (!ret) {
		vmx_load_state(vcpu, vx);
	}
	preempt_enable();
	if (ret) {
		hyvm_exit_internal(vcpu, HYVM_INTERNAL_NOT_READY, ret, 0);
		return 0;
	}
	fpu_swap_kvm_fpstate(&vx->fpu, true);
	for (;;) {
		cond_resched();
		if (signal_pending(current)) {
			run->exit_reason = HYVM_EXIT_INTR;
			vcpu->stat.signal_exits++;
			ret = -EINTR;
			break;
		}
		if (vx->shadow) {
			ret = vmx_shadow_enter(vcpu, vx);
			if (ret == -EOPNOTSUPP)
				continue;
			if (ret != VMX_RESUME)
				break;
		}
		ret = vmx_enter(vcpu, vx, &vmfail);
		if (ret) {
			pr_warn_ratelimited("VMX was taken by another hypervisor on CPU %d\n",
					    raw_smp_processor_id());
			hyvm_exit_internal(vcpu, HYVM_INTERNAL_NOT_READY, ret, 0);
			break;
		}
		/*
		 * The handlers read and write the VMCS: it must stay current
		 * on this CPU until they are done.
		 */
		preempt_disable();
		ret = vmx_vcpu_load(vcpu, vx);
		if (ret) {
			preempt_enable();
			hyvm_exit_internal(vcpu, HYVM_INTERNAL_NOT_READY, ret, 0);
			break;
		}
		if (vmfail)
			ret = vmx_fail_entry(vcpu, vmcs_read(VM_INSTRUCTION_ERROR),
					     0);
		else
			ret = vmx_handle_exit(vcpu, vx);
		preempt_enable();
		if (ret <= 0)
			break;
	}
	fpu_swap_kvm_fpstate(&vx->fpu, false);
	preempt_disable();
	if (!vmx_vcpu_load(vcpu, vx))
		vmx_store_state(vcpu, vx);
	preempt_enable();
	return ret;
}

static void vmx_slot_removed(struct hyvm_vm *vm, const struct hyvm_memslot *s)
{
	struct hyvm_vmx_vm *vv = vm->engine_priv;

	if (vv->shadow)
		hyvm_shost_slot_removed(vm, s->base_gfn, s->npages);
	else
		hyvm_npt_slot_removed(vm, &vv->ept, s->base_gfn, s->npages);
}

static void vmx_vcpu_stats_show(struct hyvm_vcpu *vcpu, struct seq_file *m)
{
	const struct hyvm_vmx_vcpu *vx = vcpu->engine_priv;

	if (!vx->shadow)
		return;
	seq_printf(m, "vmx_interp_insns %llu\n", READ_ONCE(vx->sh.interp.insns));
	seq_printf(m, "vmx_interp_exceptions %llu\n",
		   READ_ONCE(vx->sh.interp.exceptions));
}

const struct hyvm_engine_ops hyvm_vmx_ops = {
	.id		= HYVM_ENGINE_VMX,
	.name		= "vmx",
	.probe		= vmx_probe,
	.vm_init	= vmx_vm_init,
	.vm_destroy	= vmx_vm_destroy,
	.vcpu_create	= vmx_vcpu_create,
	.vcpu_free	= vmx_vcpu_free,
	.vcpu_run	= vmx_vcpu_run,
	.vcpu_stats_show = vmx_vcpu_stats_show,
	.slot_removed	= vmx_slot_removed,
};
