// SPDX-License-Identifier: GPL-2.0
/*
 * The svm engine: AMD-V, with nested paging (npt=1) or on shadow page
 * tables (npt=0, shadow.c).
 *
 * SVM is switched on per CPU (EFER.SVME and a host save area in
 * VM_HSAVE_PA) while at least one svm VM exists, and off again with the
 * last one, so that another hypervisor (kvm_amd does the same) can use the
 * CPUs when hyvm has no VMs.  If another hypervisor already has EFER.SVME
 * set, VM creation fails with EBUSY and says why.
 *
 * Each vCPU has a VMCB.  Its registers live in struct hyvm_vcpu between
 * HYVM_RUN calls and are loaded into the VMCB at the start of each run and
 * stored back at its end.  The run loop enters the guest with host
 * interrupts intercepted (a host interrupt ends guest execution at once and
 * is then taken in host context), honours rescheduling and signals between
 * entries, and hands the guest's FPU state over with the kernel's guest-FPU
 * API.  Exits are dispatched through a table; what they mean for the guest
 * (CPUID, MSRs, I/O, HLT) is decided by the handlers shared with the other
 * engines (virt/exit.h).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": svm: " fmt

#include <linux/cpu.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <asm/debugreg.h>
#include <asm/io.h>
#include <asm/fpu/api.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/svm.h>
#include <asm/trapnr.h>
#include "svm.h"
#include "../hw_enable.h"
#include "../shadow_host.h"
#include "../../arch-x86/cpu_probe.h"

static bool npt = true;
module_param(npt, bool, 0644);
MODULE_PARM_DESC(npt, "svm: nested paging (1) or shadow paging (0) for new VMs");

#define CPUID_8000000A_EDX_NPT		BIT(0)
#define CPUID_8000000A_EDX_NRIPS	BIT(3)

#define IOPM_ORDER	2	/* 12 KB used */
#define MSRPM_ORDER	1	/* 8 KB */

#define HYVM_DR6_INIT	0xffff0ff0ULL
#define HYVM_DR7_INIT	0x400ULL


struct hyvm_svm_cpu {
	struct page *hsave;		/* VM_HSAVE_PA */
	struct page *host_save;		/* host state for VMSAVE/VMLOAD */
	bool enabled;			/* hyvm set EFER.SVME here */
	u32 next_asid;
	u64 asid_gen;
	struct vmcb *last_vmcb;		/* the last one run here */
};

static DEFINE_PER_CPU(struct hyvm_svm_cpu, hyvm_svm_cpus);
static u32 hyvm_svm_max_asid;
static bool hyvm_svm_nrips;
static struct page *hyvm_svm_iopm;
static struct page *hyvm_svm_msrpm;

/* ---- per-CPU enable ---- */

/*
 * Enable SVM on this CPU.  Runs with interrupts off, from on_each_cpu()
 * or from the run loop on a CPU that came online later.
 */
static int svm_cpu_enable(void)
{
	struct hyvm_svm_cpu *c = this_cpu_ptr(&hyvm_svm_cpus);
	u64 efer;

	rdmsrl(MSR_EFER, efer);
	if (efer & EFER_SVME)
		return c->enabled ? 0 : -EBUSY;
	if (!c->hsave || !c->host_save)
		return -ENOMEM;
	wrmsrl(MSR_VM_HSAVE_PA, page_to_phys(c->hsave));
	wrmsrl(MSR_EFER, efer | EFER_SVME);
	c->enabled = true;
	/* Start a new ASID generation: the first VMRUN flushes all ASIDs. */
	c->asid_gen++;
	c->next_asid = hyvm_svm_max_asid + 1;
	return 0;
}

static void svm_cpu_disable(void)
{
	struct hyvm_svm_cpu *c = this_cpu_ptr(&hyvm_svm_cpus);
	u64 efer;

	if (!c->enabled)
		return;
	rdmsrl(MSR_EFER, efer);
	wrmsrl(MSR_EFER, efer & ~EFER_SVME);
	wrmsrl(MSR_VM_HSAVE_PA, 0);
	c->enabled = false;
}

static void svm_free_cpu_pages(void)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct hyvm_svm_cpu *c = per_cpu_ptr(&hyvm_svm_cpus, cpu);

		if (c->hsave)
			__free_page(c->hsave);
		if (c->host_save)
			__free_page(c->host_save);
		c->hsave = NULL;
		c->host_save = NULL;
		c->enabled = false;
	}
	if (hyvm_svm_iopm)
		__free_pages(hyvm_svm_iopm, IOPM_ORDER);
	if (hyvm_svm_msrpm)
		__free_pages(hyvm_svm_msrpm, MSRPM_ORDER);
	hyvm_svm_iopm = NULL;
	hyvm_svm_msrpm = NULL;
}

/* Let the guest reach an MSR directly: clear its read and write bits. */
static void svm_msrpm_allow(u8 *pm, u32 msr)
{
	u32 base, off;

	if (msr < 0x2000) {
		base = 0;
		off = 0;
	} else if (msr - 0xc0000000 < 0x2000) {
		base = 0xc0000000;
		off = 0x800;
	} else {
		base = 0xc0010000;
		off = 0x1000;
	}
	off = off * 8 + (msr - base) * 2;
	pm[off / 8] &= ~(3 << (off % 8));
}

static int svm_alloc_global(void)
{
	/*
	 * MSRs that VMLOAD/VMSAVE switch (or that VMRUN loads from the
	 * VMCB) hold the guest's value while it runs: the guest may access
	 * them without an exit.  Every other MSR and every port exits.
	 */
	static const u32 direct[] = {
		MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE, MSR_STAR,
		MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK, MSR_IA32_SYSENTER_CS,
		MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	};
	unsigned int i;
	int cpu;

	for_each_possible_cpu(cpu) {
		struct hyvm_svm_cpu *c = per_cpu_ptr(&hyvm_svm_cpus, cpu);

		c->hsave = alloc_pages_node(cpu_to_node(cpu),
					    GFP_KERNEL | __GFP_ZERO, 0);
		c->host_save = alloc_pages_node(cpu_to_node(cpu),
						GFP_KERNEL | __GFP_ZERO, 0);
		if (!c->hsave || !c->host_save)
			return -ENOMEM;
	}
	hyvm_svm_iopm = alloc_pages(GFP_KERNEL, IOPM_ORDER);
	hyvm_svm_msrpm = alloc_pages(GFP_KERNEL, MSRPM_ORDER);
	if (!hyvm_svm_iopm || !hyvm_svm_msrpm)
		return -ENOMEM;
	memset(page_address(hyvm_svm_iopm), 0xff, PAGE_SIZE << IOPM_ORDER);
	memset(page_address(hyvm_svm_msrpm), 0xff, PAGE_SIZE << MSRPM_ORDER);
	for (i = 0; i < ARRAY_SIZE(direct); i++)
		svm_msrpm_allow(page_address(hyvm_svm_msrpm), direct[i]);
	return 0;
}

/* First svm VM: the capabilities, then the areas every CPU needs. */
static int svm_setup(void)
{
	hyvm_svm_max_asid = cpuid_ebx(0x8000000a) - 1;
	hyvm_svm_nrips = cpuid_edx(0x8000000a) & CPUID_8000000A_EDX_NRIPS;
	return svm_alloc_global();
}

static struct hyvm_hw_enable svm_hw = {
	.name		= "svm",
	.busy_reason	= "SVM enabled (EFER.SVME)",
	.setup		= svm_setup,
	.cpu_enable	= svm_cpu_enable,
	.cpu_disable	= svm_cpu_disable,
	.teardown	= svm_free_cpu_pages,
	.lock		= HYVM_HW_ENABLE_LOCK(svm_hw),
};

/*
 * The probe of arch-x86 sees EFER.SVME set while hyvm itself has svm VMs:
 * that is not another hypervisor.
 */
static int svm_probe(struct hyvm_engine_info *info)
{
	int ret = hyvm_probe_svm(info);

	if (ret == -EBUSY && hyvm_hw_in_use(&svm_hw)) {
		hyvm_probe_svm_features(info);
		ret = 0;
	}
	return ret;
}

/* ---- VMs ---- */

static int svm_vm_init(struct hyvm_vm *vm)
{
	struct hyvm_svm_vm *svm;
	int ret;

	svm = kzalloc(sizeof(*svm), GFP_KERNEL_ACCOUNT);
	if (!svm)
		return -ENOMEM;
	/* Shadow paging when asked for, or when the CPU has no NPT. */
	svm->npt = READ_ONCE(npt) &&
		   (cpuid_edx(0x8000000a) & CPUID_8000000A_EDX_NPT);
	if (svm->npt)
		ret = hyvm_npt_init(&svm->npt_tables);
	else
		ret = hyvm_shost_init(vm);
	if (ret)
		goto err_free;
	ret = hyvm_hw_get(&svm_hw);
	if (ret)
		goto err_mmu;
	vm->engine_priv = svm;
	return 0;

err_mmu:
	hyvm_npt_destroy(&svm->npt_tables, vm->mm);
	hyvm_shost_destroy(vm);
err_free:
	kfree(svm);
	return ret;
}

static void svm_vm_destroy(struct hyvm_vm *vm)
{
	struct hyvm_svm_vm *svm = vm->engine_priv;

	if (!svm)
		return;
	hyvm_npt_destroy(&svm->npt_tables, vm->mm);
	hyvm_shost_destroy(vm);
	kfree(svm);
	vm->engine_priv = NULL;
	hyvm_hw_put(&svm_hw);
}

/* ---- vCPUs ---- */

static void svm_set_intercept(struct vmcb_control_area *c, u32 bit)
{
	c->intercepts[bit / 32] |= BIT(bit % 32);
}

static void svm_init_vmcb(struct hyvm_svm_vcpu *sv, struct hyvm_svm_vm *svm)
{
	static const u32 intercepts[] = {
		INTERCEPT_INTR, INTERCEPT_NMI, INTERCEPT_SMI, INTERCEPT_CPUID,
		INTERCEPT_HLT, INTERCEPT_IOIO_PROT, INTERCEPT_MSR_PROT,
		INTERCEPT_SHUTDOWN, INTERCEPT_INVD, INTERCEPT_WBINVD,
		INTERCEPT_RDPMC, INTERCEPT_INVLPGA, INTERCEPT_VMRUN,
		INTERCEPT_VMMCALL, INTERCEPT_VMLOAD, INTERCEPT_VMSAVE,
		INTERCEPT_STGI, INTERCEPT_CLGI, INTERCEPT_SKINIT,
		INTERCEPT_MONITOR, INTERCEPT_MWAIT, INTERCEPT_MWAIT_COND,
		INTERCEPT_XSETBV, INTERCEPT_RDPRU,
		/*
		 * Debug registers are virtual: a breakpoint armed in the
		 * hardware would also fire in the host, which does not switch
		 * DR0-DR3 (and QEMU's software CPU crashes on such nested
		 * breakpoints).
		 */
		INTERCEPT_DR0_READ, INTERCEPT_DR1_READ, INTERCEPT_DR2_READ,
		INTERCEPT_DR3_READ, INTERCEPT_DR4_READ, INTERCEPT_DR5_READ,
		INTERCEPT_DR6_READ, INTERCEPT_DR7_READ,
		INTERCEPT_DR0_WRITE, INTERCEPT_DR1_WRITE, INTERCEPT_DR2_WRITE,
		INTERCEPT_DR3_WRITE, INTERCEPT_DR4_WRITE, INTERCEPT_DR5_WRITE,
		INTERCEPT_DR6_WRITE, INTERCEPT_DR7_WRITE,
		/*
		 * #DB and #AC can be raised again by their own delivery,
		 * looping inside the CPU without ever opening an interrupt
		 * window: intercept them so that the host keeps the CPU.
		 */
		INTERCEPT_EXCEPTION_OFFSET + DB_VECTOR,
		INTERCEPT_EXCEPTION_OFFSET + AC_VECTOR,
	};
	struct vmcb_control_area *c = &sv->vmcb->control;
	struct vmcb_save_area *s = &sv->vmcb->save;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(intercepts); i++)
		svm_set_intercept(c, intercepts[i]);
	c->iopm_base_pa = page_to_phys(hyvm_svm_iopm);
	c->msrpm_base_pa = page_to_phys(hyvm_svm_msrpm);
	/* Guest IF and TPR are virtual: the guest cannot mask host IRQs. */
	c->int_ctl = V_INTR_MASKING_MASK;
	if (svm->npt) {
		c->nested_ctl = SVM_NESTED_CTL_NP_ENABLE;
		c->nested_cr3 = hyvm_npt_root_pa(&svm->npt_tables);
	} else {
		hyvm_svm_shadow_intercepts(c);
	}
	s->dr6 = HYVM_DR6_INIT;
	s->dr7 = HYVM_DR7_INIT;
}

static int svm_vcpu_create(struct hyvm_vcpu *vcpu)
{
	struct hyvm_svm_vm *svm = vcpu->vm->engine_priv;
	struct hyvm_svm_vcpu *sv;
	struct page *page;

	BUILD_BUG_ON(offsetof(struct hyvm_svm_gprs, rbx) != 0);
	BUILD_BUG_ON(offsetof(struct hyvm_svm_gprs, rbp) != 40);
	BUILD_BUG_ON(offsetof(struct hyvm_svm_gprs, r8) != 48);
	BUILD_BUG_ON(offsetof(struct hyvm_svm_gprs, r15) != 104);

	sv = kzalloc(sizeof(*sv), GFP_KERNEL_ACCOUNT);
	if (!sv)
		return -ENOMEM;
	page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!page)
		goto err_sv;
	if (!fpu_alloc_guest_fpstate(&sv->fpu))
		goto err_page;
	sv->vmcb = page_address(page);
	sv->vmcb_pa = page_to_phys(page);
	sv->asid_cpu = -1;
	sv->dr6 = HYVM_DR6_INIT;
	sv->dr7 = HYVM_DR7_INIT;
	hyvm_msr_reset(&sv->msrs);
	hyvm_emu_ctx_init(&sv->emu, vcpu);
	svm_init_vmcb(sv, svm);
	sv->shadow = !svm->npt;
	if (sv->shadow)
		hyvm_shost_vcpu_init(vcpu, &sv->sh.v);
	vcpu->engine_priv = sv;
	return 0;

err_page:
	__free_page(page);
err_sv:
	kfree(sv);
	return -ENOMEM;
}

static void svm_vcpu_free(struct hyvm_vcpu *vcpu)
{
	struct hyvm_svm_vcpu *sv = vcpu->engine_priv;

	if (!sv)
		return;
	if (sv->shadow)
		hyvm_shost_vcpu_destroy(vcpu, &sv->sh.v);
	fpu_free_guest_fpstate(&sv->fpu);
	__free_page(virt_to_page(sv->vmcb));
	kfree(sv);
	vcpu->engine_priv = NULL;
}

/* ---- guest state: struct hyvm_vcpu <-> VMCB ---- */

static void seg_to_vmcb(struct vmcb_seg *v, const struct hyvm_segment *s)
{
	v->selector = s->selector;
	v->base = s->base;
	v->limit = s->limit;
	if (s->unusable || !s->present) {
		v->attrib = 0;
		return;
	}
	v->attrib = (s->type & SVM_SELECTOR_TYPE_MASK) |
		    (s->s ? SVM_SELECTOR_S_MASK : 0) |
		    ((s->dpl & 3) << SVM_SELECTOR_DPL_SHIFT) |
		    SVM_SELECTOR_P_MASK |
		    (s->avl ? SVM_SELECTOR_AVL_MASK : 0) |
		    (s->l ? SVM_SELECTOR_L_MASK : 0) |
		    (s->db ? SVM_SELECTOR_DB_MASK : 0) |
		    (s->g ? SVM_SELECTOR_G_MASK : 0);
}

static void seg_from_vmcb(struct hyvm_segment *s, const struct vmcb_seg *v)
{
	u16 a = v->attrib;

	memset(s, 0, sizeof(*s));
	s->selector = v->selector;
	s->base = v->base;
	s->limit = v->limit;
	s->type = a & SVM_SELECTOR_TYPE_MASK;
	s->s = !!(a & SVM_SELECTOR_S_MASK);
	s->dpl = (a & SVM_SELECTOR_DPL_MASK) >> SVM_SELECTOR_DPL_SHIFT;
	s->present = !!(a & SVM_SELECTOR_P_MASK);
	s->avl = !!(a & SVM_SELECTOR_AVL_MASK);
	s->l = !!(a & SVM_SELECTOR_L_MASK);
	s->db = !!(a & SVM_SELECTOR_DB_MASK);
	s->g = !!(a & SVM_SELECTOR_G_MASK);
	s->unusable = !s->present;
}

static void svm_load_state(struct hyvm_vcpu *vcpu, struct hyvm_svm_vcpu *sv)
{
	const struct hyvm_sregs *sr = &vcpu->sregs;
	const struct hyvm_regs *r = &vcpu->regs;
	struct vmcb_save_area *s = &sv->vmcb->save;
	struct vmcb_control_area *c = &sv->vmcb->control;

	seg_to_vmcb(&s->cs, &sr->cs);
	seg_to_vmcb(&s->ds, &sr->ds);
	seg_to_vmcb(&s->es, &sr->es);
	seg_to_vmcb(&s->fs, &sr->fs);
	seg_to_vmcb(&s->gs, &sr->gs);
	seg_to_vmcb(&s->ss, &sr->ss);
	seg_to_vmcb(&s->tr, &sr->tr);
	seg_to_vmcb(&s->ldtr, &sr->ldt);
	s->gdtr.base = sr->gdt.base;
	s->gdtr.limit = sr->gdt.limit;
	s->idtr.base = sr->idt.base;
	s->idtr.limit = sr->idt.limit;
	s->cr0 = sr->cr0;
	s->cr2 = sr->cr2;
	s->cr3 = sr->cr3;
	s->cr4 = sr->cr4;
	s->efer = (sr->efer & (HYVM_GUEST_EFER | EFER_LMA)) | EFER_SVME;
	if (!(sr->cr0 & X86_CR0_PE))
		s->cpl = 0;
	else if (r->rflags & X86_EFLAGS_VM)
		s->cpl = 3;
	else
		s->cpl = sr->ss.dpl & 3;
	c->int_ctl = (c->int_ctl & ~V_TPR_MASK) | (sr->cr8 & V_TPR_MASK);
	s->g_pat = sv->msrs.pat;
	if (sv->shadow)
		hyvm_svm_shadow_load(sv, sr);

	s->rax = r->rax;
	s->rsp = r->rsp;
	s->rip = r->rip;
	s->rflags = r->rflags;
	sv->gprs.rbx = r->rbx;
	sv->gprs.rcx = r->rcx;
	sv->gprs.rdx = r->rdx;
	sv->gprs.rsi = r->rsi;
	sv->gprs.rdi = r->rdi;
	sv->gprs.rbp = r->rbp;
	sv->gprs.r8 = r->r8;
	sv->gprs.r9 = r->r9;
	sv->gprs.r10 = r->r10;
	sv->gprs.r11 = r->r11;
	sv->gprs.r12 = r->r12;
	sv->gprs.r13 = r->r13;
	sv->gprs.r14 = r->r14;
	sv->gprs.r15 = r->r15;
	/* Registers may have changed under any cached VMCB state. */
	c->clean = 0;
}

static void svm_store_state(struct hyvm_vcpu *vcpu, struct hyvm_svm_vcpu *sv)
{
	struct hyvm_sregs *sr = &vcpu->sregs;
	struct hyvm_regs *r = &vcpu->regs;
	const struct vmcb_save_area *s = &sv->vmcb->save;

	seg_from_vmcb(&sr->cs, &s->cs);
	seg_from_vmcb(&sr->ds, &s->ds);
	seg_from_vmcb(&sr->es, &s->es);
	seg_from_vmcb(&sr->fs, &s->fs);
	seg_from_vmcb(&sr->gs, &s->gs);
	seg_from_vmcb(&sr->ss, &s->ss);
	seg_from_vmcb(&sr->tr, &s->tr);
	seg_from_vmcb(&sr->ldt, &s->ldtr);
	/* The hardware keeps CS usable whatever its P bit says. */
	sr->cs.unusable = 0;
	sr->gdt.base = s->gdtr.base;
	sr->gdt.limit = s->gdtr.limit;
	sr->idt.base = s->idtr.base;
	sr->idt.limit = s->idtr.limit;
	sr->cr0 = s->cr0;
	sr->cr2 = s->cr2;
	sr->cr3 = s->cr3;
	sr->cr4 = s->cr4;
	sr->efer = s->efer & ~EFER_SVME;
	sr->cr8 = sv->vmcb->control.int_ctl & V_TPR_MASK;

	r->rax = s->rax;
	r->rsp = s->rsp;
	r->rip = s->rip;
	r->rflags = s->rflags;
	r->rbx = sv->gprs.rbx;
	r->rcx = sv->gprs.rcx;
	r->rdx = sv->gprs.rdx;
	r->rsi = sv->gprs.rsi;
	r->rdi = sv->gprs.rdi;
	r->rbp = sv->gprs.rbp;
	r->r8 = sv->gprs.r8;
	r->r9 = sv->gprs.r9;
	r->r10 = sv->gprs.r10;
	r->r11 = sv->gprs.r11;
	r->r12 = sv->gprs.r12;
	r->r13 = sv->gprs.r13;
	r->r14 = sv->gprs.r14;
	r->r15 = sv->gprs.r15;
	if (sv->shadow)
		hyvm_svm_shadow_store(sv, sr);
}

/* ---- exits ---- */

/* What a handler tells the run loop. */
enum {
	SVM_RESUME = 1,		/* enter the guest again */
	SVM_USER = 0,		/* return to userspace, run->exit_reason set */
};

static void svm_skip(struct hyvm_svm_vcpu *sv, unsigned int len)
{
	struct vmcb *vmcb = sv->vmcb;

	if (hyvm_svm_nrips && vmcb->control.next_rip)
		vmcb->save.rip = vmcb->control.next_rip;
	else
		vmcb->save.rip += len;
	/* A completed instruction ends any sti or mov-ss shadow. */
	vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
}

/* Queue an exception for the next entry; real mode has no error codes. */
static void svm_inject(struct hyvm_svm_vcpu *sv, u8 vector, bool has_err,
		       u32 err)
{
	struct vmcb_control_area *c = &sv->vmcb->control;

	c->event_inj = vector | SVM_EVTINJ_VALID | SVM_EVTINJ_TYPE_EXEPT;
	c->event_inj_err = 0;
	if (has_err && (sv->vmcb->save.cr0 & X86_CR0_PE)) {
		c->event_inj |= SVM_EVTINJ_VALID_ERR;
		c->event_inj_err = err;
	}
}

struct svm_exit {
	int (*handler)(struct hyvm_vcpu *vcpu, struct hyvm_svm_vcpu *sv);
	u8 kind;		/* enum hyvm_hw_exit */
};

static int svm_exit_resume(struct hyvm_vcpu *vcpu, struct hyvm_svm_vcpu *sv)
{
	/* The host interrupt or NMI was taken when interrupts came back on. */
	return SVM_RESUME;
}

static int svm_exit_cpuid(struct hyvm_vcpu *vcpu, struct hyvm_svm_vcpu *sv)
{
	struct vmcb_save_area *s = &sv->vmcb->save;
	u32 out[4];

	hyvm_cpuid(vcpu, s->rax, sv->gprs.rcx, out);
	s->rax = out[0];
	sv->gprs.rbx = out[1];
	sv->gprs.rcx = out[2];
	sv->gprs.rdx = out[3];
	svm_skip(sv, 2);
	return SVM_RESUME;
}

/* HYVM_INTERNAL_EMULATION: the linear RIP and the instruction's bytes. */
static void svm_not_emulated(struct hyvm_vcpu *vcpu, struct hyvm_svm_vcpu *sv)
{
	struct vmcb_save_area *s = &sv->vmcb->save;
	struct x86_emu *e = &sv->emu.emu;
	u64 la = s->cs.base + s->rip, bytes = 0;

	/* The emulator's view translates RIP through the guest's paging. */
	svm_store_state(vcpu, sv);
	hyvm_emu_load(&sv->emu);
	e->ops->read(e, la, &bytes, sizeof(bytes), true);
	hyvm_exit_internal(vcpu, HYVM_INTERNAL_EMULATION, la, bytes);
}

/*
 * Emulate the instruction at RIP with virt/emulate: an access to
 * guest-physical memory that is not RAM (MMIO, handed to userspace through
 * run->mmio), or string I/O (through run->io, one element per exit).  A
 * read leaves the instruction (or the rest of a rep instruction) undone;
 * the next HYVM_RUN re-enters the guest, which exits again at the same
 * instruction, and the emulator then finds the data userspace supplied
 * (hyvm_emu_resume()).  A write completes and then returns to userspace.
 * @what is for the internal error that reports an instruction the emulator
 * cannot do (the faulting address, or the I/O exit information).
 */
static int svm_emulate(struct hyvm_vcpu *vcpu, struct hyvm_svm_vcpu *sv,
		       u64 what)
{
	struct hyvm_emu_ctx *ctx = &sv->emu;
	struct x86_emu *e = &ctx->emu;
	enum x86_emu_result res;

	svm_store_state(vcpu, sv);
	hyvm_emu_load(ctx);
	res = x86_emulate(e);
	if (ctx->mem_error) {
		ctx->mem_error = false;
		hyvm_exit_internal(vcpu, HYVM_INTERNAL_MEMORY, e->rip, what);
		return SVM_USER;
	}
	switch (res) {
	case X86_EMU_OK:
		hyvm_emu_insn_done(ctx);
		hyvm_emu_store(ctx);
		svm_load_state(vcpu, sv);
		sv->vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
		if (e->shadow)
			sv->vmcb->control.int_state |= SVM_INTERRUPT_SHADOW_MASK;
		return ctx->exit_after ? SVM_USER : SVM_RESUME;
	case X86_EMU_EXIT:
		/*
		 * An MMIO read or an IN waits for userspace (run is set); a
		 * rep string instruction may have done some iterations.
		 */
		if (vcpu->run->exit_reason == HYVM_EXIT_NONE)
			break;
		hyvm_emu_store(ctx);
		svm_load_state(vcpu, sv);
		return SVM_USER;
	case X86_EMU_EXCEPTION:
		if (e->exc.vector == X86_EXC_PF)
			sv->vmcb->save.cr2 = e->exc.cr2;
		svm_inject(sv, e->exc.vector, e->exc.has_error, e->exc.error);
		return SVM_RESUME;
	default:
		break;
	}
	svm_not_emulated(vcpu, sv);
	return SVM_USER;
}

static int svm_exit_hlt(struct hyvm_vcpu *vcpu, struct hyvm_svm_vcpu *sv)
{
	/*
	 * Nothing in the kernel can interrupt the guest yet (no local APIC),
	 * so HLT always goes to userspace, past the instruction.
	 */
	svm_skip(sv, 1);
	hyvm_exit_hlt(vcpu);
	return SVM_USER;
}

/* ---- string I/O ---- */

/* Most OUTS elements handed to userspace in one exit. */
#define SVM_OUTS_BATCH	64

/* Address size of a string I/O instruction, from the IOIO exit: 2, 4, 8. */
static unsigned int svm_io_asize(u64 info)
{
	if (info & BIT_ULL(SVM_IOIO_ASIZE_SHIFT))
		return 2;
	if (info & BIT_ULL(SVM_IOIO_ASIZE_SHIFT + 1))
		return 4;
	return 8;
}

static u64 asize_mask(unsigned int asize)
{
	return asize == 8 ? ~0ULL : (1ULL << (asize * 8)) - 1;
}

/* Add @delta to @reg within the address size, as the CPU does. */
static void asize_add(u64 *reg, s64 delta, unsigned int asize)
{
	u64 m = asize_mask(asize);

	*reg = (*reg & ~m) | ((*reg + delta) & m);
}

/*
 * The segment OUTS reads from: DS unless a segment-override prefix says
 * otherwise (the exit information does not tell; the prefixes do).
 * Returns an enum x86_seg, or -1 when the instruction cannot be read.
 */
static int svm_outs_segment(struct x86_emu *e, u64 la)
{
	u8 insn[15];
	int seg = X86_SEG_DS;
	unsigned int i, n = sizeof(insn);

	/* Do not read across into a page the instruction does not reach. */
	if (e->ops->read(e, la, insn, n, true) != X86_EMU_CB_OK) {
		n = PAGE_SIZE - (la & ~PAGE_MASK);
		if (n > sizeof(insn) ||
		    e->ops->read(e, la, insn, n, true) != X86_EMU_CB_OK)
			return -1;
	}
	for (i = 0; i < n; i++) {
		switch (insn[i]) {
		case 0x26: seg = X86_SEG_ES; continue;
		case 0x2e: seg = X86_SEG_CS; continue;
		case 0x36: seg = X86_SEG_SS; continue;
		case 0x3e: seg = X86_SEG_DS; continue;
		case 0x64: seg = X86_SEG_FS; continue;
		case 0x65: seg = X86_SEG_GS; continue;
		case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
			continue;
		}
		if (e->mode == X86_MODE_LONG64 && (insn[i] & 0xf0) == 0x40)
			continue;	/* REX */
		break;
	}
	/* In 64-bit mode only FS and GS have a base. */
	if (e->mode == X86_MODE_LONG64 && seg != X86_SEG_FS && seg != X86_SEG_GS)
		seg = X86_SEG_DS;
	return seg;
}

/* Inject the fault an emulator memory callback reported. */
static void svm_inject_emu_fault(struct hyvm_svm_vcpu *sv, struct x86_emu *e)
{
	if (e->exc.vector == X86_EXC_PF)
		sv->vmcb->save.cr2 = e->exc.cr2;
	svm_inject(sv, e->exc.vector, e->exc.has_error, e->exc.error);
}

/*
 * INS and OUTS, with or without rep.  The exit gives port, size, address
 * size and rep; the memory side goes through the emulator's view of guest
 * memory (linear addresses through the guest's paging).  OUTS hands up to
 * SVM_OUTS_BATCH elements to userspace per exit (run->io.count); INS takes
 * one element per exit, stored at ES:RDI when the next HYVM_RUN brings the
 * data.  A rep instruction that is not finished leaves RIP on itself and
 * continues when the guest re-executes it.  Segment limits are not checked.
 */
static int svm_string_io(struct hyvm_vcpu *vcpu, struct hyvm_svm_vcpu *sv,
			 u64 info)
{
	struct vmcb_save_area *s = &sv->vmcb->save;
	struct x86_emu *e = &sv->emu.emu;
	struct hyvm_run *run = vcpu->run;
	u8 *data = (u8 *)run + HYVM_RUN_IO_DATA_OFFSET;
	unsigned int asize = svm_io_asize(info);
	u8 size = (info & SVM_IOIO_SIZE_MASK) >> SVM_IOIO_SIZE_SHIFT;
	bool rep = info & SVM_IOIO_REP_MASK;
	s64 step = (s->rflags & X86_EFLAGS_DF) ? -(s64)size : size;
	u64 count = rep ? sv->gprs.rcx & asize_mask(asize) : 1;
	u64 next_rip = sv->vmcb->control.exit_info_2;
	u8 buf[SVM_OUTS_BATCH * 4];
	unsigned int i, n;
	int seg;

	if (size != 1 && size != 2 && size != 4)
		goto unknown;
	if (!count) {		/* rep with RCX = 0 does nothing */
		s->rip = next_rip;
		return SVM_RESUME;
	}
	/* The emulator's view of the vCPU, for linear-address accesses. */
	svm_store_state(vcpu, sv);
	hyvm_emu_load(&sv->emu);

	if (info & SVM_IOIO_TYPE_MASK) {	/* INS */
		hyvm_exit_io(vcpu, true, info >> 16, size, 0);
		sv->io_in_pending = true;
		sv->io_in_string = true;
		sv->io_in_rep = rep;
		sv->io_in_size = size;
		sv->io_in_asize = asize;
		sv->io_in_next_rip = next_rip;
		return SVM_USER;
	}

	seg = svm_outs_segment(e, s->cs.base + s->rip);
	if (seg < 0)
		goto unknown;
	n = min_t(u64, count, SVM_OUTS_BATCH);
	for (i = 0; i < n; i++) {
		u64 la = e->seg[seg].base +
			 ((sv->gprs.rsi + i * step) & asize_mask(asize));

		if (e->ops->read(e, la, buf + i * size, size, false) !=
		    X86_EMU_CB_OK)
			break;
	}
	if (!i) {
		/* The first element faults: the instruction faults. */
		svm_inject_emu_fault(sv, e);
		return SVM_RESUME;
	}
	hyvm_exit_io(vcpu, false, info >> 16, size, 0);
	memcpy(data, buf, i * size);
	run->io.count = i;
	asize_add(&sv->gprs.rsi, i * step, asize);
	if (rep)
		asize_add(&sv->gprs.rcx, -(s64)i, asize);
	if (!rep || i == count)
		s->rip = next_rip;
	return SVM_USER;

unknown:
	svm_not_emulated(vcpu, sv);
	return SVM_USER;
}

/*
 * The data of an IN or INS that userspace completed: into RAX, or stored
 * at ES:RDI.  Runs at the start of HYVM_RUN, on the registers in
 * vcpu->regs.  A store that faults is delivered as that fault.
 */
static void svm_io_in_complete(struct hyvm_vcpu *vcpu, struct hyvm_svm_vcpu *sv)
{
	struct hyvm_regs *r = &vcpu->regs;
	const u8 *data = (const u8 *)vcpu->run + HYVM_RUN_IO_DATA_OFFSET;
	struct x86_emu *e = &sv->emu.emu;
	unsigned int asize = sv->io_in_asize;
	u8 size = sv->io_in_size;
	u64 la;

	sv->io_in_pending = false;
	if (!sv->io_in_string) {
		r->rax = hyvm_exit_io_in_done(vcpu, size, r->rax);
		r->rip = sv->io_in_next_rip;
		return;
	}
	hyvm_emu_load(&sv->emu);
	la = e->seg[X86_SEG_ES].base + (r->rdi & asize_mask(asize));
	if (e->ops->write(e, la, data, size) != X86_EMU_CB_OK) {
		/* The VMCB's CR2 is loaded from sregs after this. */
		if (e->exc.vector == X86_EXC_PF)
			vcpu->sregs.cr2 = e->exc.cr2;
		svm_inject(sv, e->exc.vector, e->exc.has_error, e->exc.error);
		return;
	}
	asize_add(&r->rdi, (r->rflags & X86_EFLAGS_DF) ? -(s64)size : size,
		  asize);
	if (sv->io_in_rep)
		asize_add(&r->rcx, -1, asize);
	if (!sv->io_in_rep || !(r->rcx & asize_mask(asize)))
		r->rip = sv->io_in_next_rip;
}

static int svm_exit_ioio(struct hyvm_vcpu *vcpu, struct hyvm_svm_vcpu *sv)
{
	struct vmcb *vmcb = sv->vmcb;
	u64 info = vmcb->control.exit_info_1;
	bool in = info & SVM_IOIO_TYPE_MASK;
	u16 port = info >> 16;
	u8 size = (info & SVM_IOIO_SIZE_MASK) >> SVM_IOIO_SIZE_SHIFT;

	if (info & SVM_IOIO_STR_MASK)
		return svm_string_io(vcpu, sv, info);
	if (size != 1 && size != 2 && size != 4) {
		hyvm_exit_internal(vcpu, HYVM_INTERNAL_UNKNOWN_EXIT,
				   SVM_EXIT_IOIO, info);
		return SVM_USER;
	}
	hyvm_exit_io(vcpu, in, port, size, vmcb->save.rax);
	/* EXITINFO2 is the next RIP, with or without NRIPS. */
	if (in) {
		sv->io_in_pending = true;
		sv->io_in_string = false;
		sv->io_in_size = size;
		sv->io_in_next_rip = vmcb->control.exit_info_2;
	} else {
		vmcb->save.rip = vmcb->control.exit_info_2;
	}
	vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
	return SVM_USER;
}

static int svm_exit_msr(struct hyvm_vcpu *vcpu, struct hyvm_svm_vcpu *sv)
{
	struct vmcb_save_area *s = &sv->vmcb->save;
	bool write = sv->vmcb->control.exit_info_1;
	u32 msr = sv->gprs.rcx;
	u64 val;
	int ret;

	if (write) {
		val = (u32)s->rax | (sv->gprs.rdx << 32);
		if (msr == MSR_EFER) {
			ret = -EPERM;
			/* LME may change only while paging is off. */
			u64 cur = sv->shadow ? sv->sh.efer : s->efer;

			if (!(val & ~(u64)(HYVM_GUEST_EFER | EFER_LMA)) &&
			    (!(s->cr0 & X86_CR0_PG) ||
			     !((val ^ cur) & EFER_LME))) {
				val = (val & HYVM_GUEST_EFER) | (cur & EFER_LMA);
				if (sv->shadow)
					hyvm_svm_shadow_set_efer(sv, val);
				else
					s->efer = val | EFER_SVME;
				ret = 0;
			}
		} else {
			ret = hyvm_msr_set(vcpu, &sv->msrs, msr, val);
			if (!ret && msr == MSR_IA32_CR_PAT)
				s->g_pat = val;
		}
	} else if (msr == MSR_EFER) {
		val = sv->shadow ? sv->sh.efer : s->efer & ~EFER_SVME;
		ret = 0;
	} else {
		ret = hyvm_msr_get(vcpu, &sv->msrs, msr, &val);
	}
	if (ret) {
		svm_inject(sv, GP_VECTOR, true, 0);
		return SVM_RESUME;
	}
	if (!write) {
		s->rax = (u32)val;
		sv->gprs.rdx = val >> 32;
	}
	svm_skip(sv, 2);
	return SVM_RESUME;
}

static int svm_exit_npf(struct hyvm_vcpu *vcpu, struct hyvm_svm_vcpu *sv)
{
	struct hyvm_svm_vm *svm = vcpu->vm->engine_priv;
	u64 err = sv->vmcb->control.exit_info_1;
	u64 gpa = sv->vmcb->control.exit_info_2;
	bool mmio;
	int ret;

	ret = hyvm_npt_map(vcpu->vm, &svm->npt_tables, gpa,
			   err & BIT_ULL(1), &mmio);
	if (ret) {
		hyvm_exit_internal(vcpu, HYVM_INTERNAL_MEMORY, sv->vmcb->save.rip,
				   gpa);
		return ret;
	}
	if (mmio)
		return svm_emulate(vcpu, sv, gpa);
	return SVM_RESUME;
}

/* npt=0: a #PF on the shadow table (exit info: error code, address). */
static int svm_exit_pf(struct hyvm_vcpu *vcpu, struct hyvm_svm_vcpu *sv)
{
	struct vmcb_control_area *c = &sv->vmcb->control;
	u64 gva = c->exit_info_2;
	struct hyvm_shadow_fault f;

	switch (hyvm_shost_page_fault(vcpu, &sv->sh.v, sv->vmcb->save.cpl,
				      sv->vmcb->save.rflags & X86_EFLAGS_AC,
				      gva, c->exit_info_1, &f)) {
	case HYVM_SHADOW_RETRY:
		return SVM_RESUME;
	case HYVM_SHADOW_GUEST_PF:
		/*
		 * A page fault while delivering an exception is a double
		 * fault; the event being delivered was requeued.
		 */
		if ((c->event_inj & SVM_EVTINJ_VALID) &&
		    (c->event_inj & SVM_EVTINJ_TYPE_MASK) == SVM_EVTINJ_TYPE_EXEPT) {
			svm_inject(sv, DF_VECTOR, true, 0);
			return SVM_RESUME;
		}
		sv->vmcb->save.cr2 = f.cr2;
		svm_inject(sv, PF_VECTOR, true, f.error_code);
		return SVM_RESUME;
	case HYVM_SHADOW_GUEST_GP:
		svm_inject(sv, GP_VECTOR, true, 0);
		return SVM_RESUME;
	case HYVM_SHADOW_EMULATE:
	case HYVM_SHADOW_MMIO:
		return svm_emulate(vcpu, sv, gva);
	default:
		hyvm_exit_internal(vcpu, HYVM_INTERNAL_MEMORY,
				   sv->vmcb->save.rip, gva);
		return SVM_USER;
	}
}

/* npt=0: guest CR0, CR3 and CR4 are virtual; accesses are emulated. */
static int svm_exit_cr(struct hyvm_vcpu *vcpu, struct hyvm_svm_vcpu *sv)
{
	return svm_emulate(vcpu, sv, sv->vmcb->control.exit_code);
}

static int svm_exit_shutdown(struct hyvm_vcpu *vcpu, struct hyvm_svm_vcpu *sv)
{
	/*
	 * Triple fault.  The VMCB's guest state is undefined after it: the
	 * vCPU is dead, and every later HYVM_RUN says so again.
	 */
	sv->shutdown = true;
	hyvm_exit_shutdown(vcpu, sv->vmcb->save.rip);
	return SVM_USER;
}

static int svm_exit_ud(struct hyvm_vcpu *vcpu, struct hyvm_svm_vcpu *sv)
{
	/* SVM instructions, MONITOR/MWAIT, XSETBV: hidden from the guest. */
	svm_inject(sv, UD_VECTOR, false, 0);
	return SVM_RESUME;
}

static int svm_exit_gp(struct hyvm_vcpu *vcpu, struct hyvm_svm_vcpu *sv)
{
	/* RDPMC: no performance counters for the guest. */
	svm_inject(sv, GP_VECTOR, true, 0);
	return SVM_RESUME;
}

static int svm_exit_cache(struct hyvm_vcpu *vcpu, struct hyvm_svm_vcpu *sv)
{
	/*
	 * INVD would throw away host data in the caches; WBINVD costs the
	 * whole machine.  Guest memory is ordinary host memory: both are
	 * no-ops for the guest.
	 */
	svm_skip(sv, 2);
	return SVM_RESUME;
}

static int svm_exit_excp(struct hyvm_vcpu *vcpu, struct hyvm_svm_vcpu *sv)
{
	u8 vector = sv->vmcb->control.exit_code - SVM_EXIT_EXCP_BASE;

	/* #DB and #AC are intercepted only to keep the CPU: pass them on. */
	svm_inject(sv, vector, vector == AC_VECTOR, 0);
	return SVM_RESUME;
}

/*
 * MOV to or from a debug register.  The exit does not say which general
 * register (no decode assists assumed): the instruction is read, through
 * the guest's paging, and decoded here; it is 0F 21 /r or 0F 23 /r after
 * optional prefixes, always in register form.
 */
static int svm_exit_dr(struct hyvm_vcpu *vcpu, struct hyvm_svm_vcpu *sv)
{
	struct vmcb_save_area *s = &sv->vmcb->save;
	u32 code = sv->vmcb->control.exit_code;
	bool write = code >= SVM_EXIT_WRITE_DR0;
	unsigned int dr = code & 0xf, i, gpr, rex = 0;
	struct x86_emu *e = &sv->emu.emu;
	u64 *regs[16], *reg, val;
	u8 insn[15];

	svm_store_state(vcpu, sv);
	hyvm_emu_load(&sv->emu);
	if (e->ops->read(e, s->cs.base + s->rip, insn, sizeof(insn), true) !=
	    X86_EMU_CB_OK &&
	    e->ops->read(e, s->cs.base + s->rip, insn, 3, true) !=
	    X86_EMU_CB_OK)
		goto not_emulated;
	for (i = 0; i < sizeof(insn) - 2; i++) {
		u8 b = insn[i];

		if (b == 0x66 || b == 0x67 || b == 0xf2 || b == 0xf3 ||
		    b == 0x2e || b == 0x3e || b == 0x26 || b == 0x36 ||
		    b == 0x64 || b == 0x65)
			continue;
		if (e->mode == X86_MODE_LONG64 && (b & 0xf0) == 0x40) {
			rex = b;
			continue;
		}
		break;
	}
	if (insn[i] != 0x0f || insn[i + 1] != (write ? 0x23 : 0x21) ||
	    ((insn[i + 2] >> 3) & 7) != dr)
		goto not_emulated;
	if (rex & 4) {			/* DR8-DR15 do not exist */
		svm_inject(sv, UD_VECTOR, false, 0);
		return SVM_RESUME;
	}
	if ((dr == 4 || dr == 5) && (s->cr4 & X86_CR4_DE)) {
		svm_inject(sv, UD_VECTOR, false, 0);
		return SVM_RESUME;
	}
	gpr = (insn[i + 2] & 7) | ((rex & 1) << 3);
	regs[0] = &s->rax;
	regs[1] = &sv->gprs.rcx;
	regs[2] = &sv->gprs.rdx;
	regs[3] = &sv->gprs.rbx;
	regs[4] = &s->rsp;
	regs[5] = &sv->gprs.rbp;
	regs[6] = &sv->gprs.rsi;
	regs[7] = &sv->gprs.rdi;
	regs[8] = &sv->gprs.r8;
	regs[9] = &sv->gprs.r9;
	regs[10] = &sv->gprs.r10;
	regs[11] = &sv->gprs.r11;
	regs[12] = &sv->gprs.r12;
	regs[13] = &sv->gprs.r13;
	regs[14] = &sv->gprs.r14;
	regs[15] = &sv->gprs.r15;
	reg = regs[gpr];
	if (dr == 4 || dr == 5)
		dr += 2;
	if (write) {
		val = e->mode == X86_MODE_LONG64 ? *reg : (u32)*reg;
		if (dr >= 6 && (val >> 32)) {
			svm_inject(sv, GP_VECTOR, true, 0);
			return SVM_RESUME;
		}
		if (dr < 4)
			sv->dr[dr] = val;
		else if (dr == 6)
			sv->dr6 = (val & 0xf00f) | 0xffff0ff0;
		else
			sv->dr7 = (val & 0xffff2bff) | 0x400;
	} else {
		val = dr < 4 ? sv->dr[dr] : dr == 6 ? sv->dr6 : sv->dr7;
		*reg = e->mode == X86_MODE_LONG64 ? val : (u32)val;
	}
	/* The length is known: no need for next_rip. */
	s->rip += i + 3;
	sv->vmcb->control.int_state &= ~SVM_INTERRUPT_SHADOW_MASK;
	return SVM_RESUME;

not_emulated:
	svm_not_emulated(vcpu, sv);
	return SVM_USER;
}

static const struct svm_exit svm_exits[] = {
	[SVM_EXIT_INTR]		= { svm_exit_resume, HYVM_HWX_INTR },
	[SVM_EXIT_NMI]		= { svm_exit_resume, HYVM_HWX_INTR },
	[SVM_EXIT_SMI]		= { svm_exit_resume, HYVM_HWX_INTR },
	[SVM_EXIT_CPUID]	= { svm_exit_cpuid, HYVM_HWX_CPUID },
	[SVM_EXIT_HLT]		= { svm_exit_hlt, HYVM_HWX_HLT },
	[SVM_EXIT_IOIO]		= { svm_exit_ioio, HYVM_HWX_IO },
	[SVM_EXIT_MSR]		= { svm_exit_msr, HYVM_HWX_MSR },
	[SVM_EXIT_SHUTDOWN]	= { svm_exit_shutdown, HYVM_HWX_SHUTDOWN },
	[SVM_EXIT_INVD]		= { svm_exit_cache, HYVM_HWX_CACHE },
	[SVM_EXIT_WBINVD]	= { svm_exit_cache, HYVM_HWX_CACHE },
	[SVM_EXIT_RDPMC]	= { svm_exit_gp, HYVM_HWX_UD },
	[SVM_EXIT_INVLPGA]	= { svm_exit_ud, HYVM_HWX_UD },
	[SVM_EXIT_VMRUN]	= { svm_exit_ud, HYVM_HWX_UD },
	[SVM_EXIT_VMMCALL]	= { svm_exit_ud, HYVM_HWX_UD },
	[SVM_EXIT_VMLOAD]	= { svm_exit_ud, HYVM_HWX_UD },
	[SVM_EXIT_VMSAVE]	= { svm_exit_ud, HYVM_HWX_UD },
	[SVM_EXIT_STGI]		= { svm_exit_ud, HYVM_HWX_UD },
	[SVM_EXIT_CLGI]		= { svm_exit_ud, HYVM_HWX_UD },
	[SVM_EXIT_SKINIT]	= { svm_exit_ud, HYVM_HWX_UD },
	[SVM_EXIT_MONITOR]	= { svm_exit_ud, HYVM_HWX_UD },
	[SVM_EXIT_MWAIT]	= { svm_exit_ud, HYVM_HWX_UD },
	[SVM_EXIT_MWAIT_COND]	= { svm_exit_ud, HYVM_HWX_UD },
	[SVM_EXIT_XSETBV]	= { svm_exit_ud, HYVM_HWX_UD },
	[SVM_EXIT_RDPRU]	= { svm_exit_ud, HYVM_HWX_UD },
	[SVM_EXIT_READ_DR0 ... SVM_EXIT_READ_DR7] = { svm_exit_dr, HYVM_HWX_OTHER },
	[SVM_EXIT_WRITE_DR0 ... SVM_EXIT_WRITE_DR7] = { svm_exit_dr, HYVM_HWX_OTHER },
	[SVM_EXIT_EXCP_BASE + DB_VECTOR] = { svm_exit_excp, HYVM_HWX_EXCEPTION },
	[SVM_EXIT_EXCP_BASE + AC_VECTOR] = { svm_exit_excp, HYVM_HWX_EXCEPTION },
	[SVM_EXIT_EXCP_BASE + PF_VECTOR] = { svm_exit_pf, HYVM_HWX_EXCEPTION },
	[SVM_EXIT_READ_CR0]	= { svm_exit_cr, HYVM_HWX_OTHER },
	[SVM_EXIT_READ_CR3]	= { svm_exit_cr, HYVM_HWX_OTHER },
	[SVM_EXIT_READ_CR4]	= { svm_exit_cr, HYVM_HWX_OTHER },
	[SVM_EXIT_WRITE_CR0]	= { svm_exit_cr, HYVM_HWX_OTHER },
	[SVM_EXIT_WRITE_CR3]	= { svm_exit_cr, HYVM_HWX_OTHER },
	[SVM_EXIT_WRITE_CR4]	= { svm_exit_cr, HYVM_HWX_OTHER },
};

/*
 * An event whose delivery was cut short by the exit (a nested page fault
 * on the IDT or the stack, say) must be delivered again.  Software
 * interrupts and INT3/INTO are not reinjected: RIP still points at the
 * instruction, which raises them again when it re-executes.
 */
static void svm_requeue_event(struct hyvm_svm_vcpu *sv)
{
	struct vmcb_control_area *c = &sv->vmcb->control;
	u32 info = c->exit_int_info;
	u32 type = info & SVM_EXITINTINFO_TYPE_MASK;
	u8 vector = info & SVM_EXITINTINFO_VEC_MASK;

	c->event_inj = 0;
	c->event_inj_err = 0;
	if (!(info & SVM_EXITINTINFO_VALID))
		return;
	if (type == SVM_EXITINTINFO_TYPE_SOFT ||
	    (type == SVM_EXITINTINFO_TYPE_EXEPT &&
	     (vector == BP_VECTOR || vector == OF_VECTOR)))
		return;
	c->event_inj = info;
	c->event_inj_err = c->exit_int_info_err;
}

static int svm_handle_exit(struct hyvm_vcpu *vcpu, struct hyvm_svm_vcpu *sv)
{
	struct vmcb *vmcb = sv->vmcb;
	u32 code = vmcb->control.exit_code;
	const struct svm_exit *e = NULL;

	if (vmcb->control.exit_code_hi || code == (u32)SVM_EXIT_ERR) {
		/* VMRUN refused the state userspace gave. */
		hyvm_exit_record(vcpu, HYVM_HWX_FAIL, code, vmcb->save.rip,
				 vmcb->control.exit_info_1,
				 vmcb->control.exit_info_2);
		vcpu->run->exit_reason = HYVM_EXIT_FAIL_ENTRY;
		vcpu->run->fail_entry.hardware_reason =
			(u64)vmcb->control.exit_code_hi << 32 | code;
		return SVM_USER;
	}
	svm_requeue_event(sv);
	if (code < ARRAY_SIZE(svm_exits) && svm_exits[code].handler)
		e = &svm_exits[code];
	if (code == SVM_EXIT_NPF)
		hyvm_exit_record(vcpu, HYVM_HWX_NPF, code, vmcb->save.rip,
				 vmcb->control.exit_info_1,
				 vmcb->control.exit_info_2);
	else
		hyvm_exit_record(vcpu, e ? e->kind : HYVM_HWX_OTHER, code,
				 vmcb->save.rip, vmcb->control.exit_info_1,
				 vmcb->control.exit_info_2);
	if (code == SVM_EXIT_NPF)
		return svm_exit_npf(vcpu, sv);
	if (!e) {
		hyvm_exit_internal(vcpu, HYVM_INTERNAL_UNKNOWN_EXIT, code,
				   vmcb->control.exit_info_1);
		return SVM_USER;
	}
	return e->handler(vcpu, sv);
}

/* ---- the run loop ---- */

/*
 * Give the vCPU an ASID that no stale TLB entry on this CPU can carry:
 * ASIDs are handed out per CPU in generations, and starting a generation
 * flushes every ASID.  Interrupts are off.
 */
static void svm_pick_asid(struct hyvm_svm_vcpu *sv, struct hyvm_svm_cpu *c,
			  int cpu)
{
	struct vmcb_control_area *ctl = &sv->vmcb->control;

	if (sv->asid_cpu == cpu && sv->asid_gen == c->asid_gen)
		return;
	if (c->next_asid > hyvm_svm_max_asid) {
		c->asid_gen++;
		c->next_asid = 1;
		ctl->tlb_ctl = TLB_CONTROL_FLUSH_ALL_ASID;
	}
	sv->asid = c->next_asid++;
	sv->asid_cpu = cpu;
	sv->asid_gen = c->asid_gen;
	ctl->asid = sv->asid;
	ctl->clean = 0;
}

/*
 * DR0-DR3 are not switched and guest writes to DR7 are not intercepted:
 * whatever breakpoints the guest armed must not stay armed in the host.
 * Put the host's own back, or disarm.
 */
static void svm_restore_host_dr7(void)
{
	unsigned long dr7;

	if (hw_breakpoint_active()) {
		hw_breakpoint_restore();
		return;
	}
	get_debugreg(dr7, 7);
	if (dr7 & (DR_LOCAL_ENABLE_MASK | DR_GLOBAL_ENABLE_MASK))
		set_debugreg(0, 7);
}

/* One guest entry.  Returns 0, or -EBUSY when SVM is not ours here. */
static int svm_enter(struct hyvm_vcpu *vcpu, struct hyvm_svm_vcpu *sv)
{
	struct hyvm_svm_cpu *c;
	int cpu, ret;

	preempt_disable();
	/* The guest's FPU state goes back into the registers if it left. */
	if (test_thread_flag(TIF_NEED_FPU_LOAD))
		switch_fpu_return();
	local_irq_disable();
	cpu = smp_processor_id();
	c = this_cpu_ptr(&hyvm_svm_cpus);
	/* A CPU that came online since the first VM, or was reset. */
	ret = svm_cpu_enable();
	if (ret)
		goto out;
	/*
	 * Mappings were taken away (tlb.c), or the shadow root changed: a
	 * fresh ASID has no TLB entry at all.
	 */
	if (hyvm_tlb_enter(vcpu) || sv->sh.flush) {
		sv->asid_cpu = -1;
		sv->sh.flush = false;
	}
	svm_pick_asid(sv, c, cpu);
	/* Branch predictions trained by another vCPU must not steer us. */
	if (c->last_vmcb != sv->vmcb) {
		indirect_branch_prediction_barrier();
		c->last_vmcb = sv->vmcb;
	}
	/* Host breakpoints must not fire in the guest. */
	if (hw_breakpoint_active())
		set_debugreg(0, 7);
	hyvm_svm_vmrun(sv->vmcb_pa, page_to_phys(c->host_save), &sv->gprs);
	hyvm_tlb_exit(vcpu);
	sv->vmcb->control.tlb_ctl = TLB_CONTROL_DO_NOTHING;
	svm_restore_host_dr7();
out:
	local_irq_enable();
	preempt_enable();
	return ret;
}

/*
 * npt=0: get the shadow root for the next entry, or run the guest in the
 * interpreter while the hardware cannot run it on shadow tables.
 * Returns SVM_RESUME to enter the guest, -EOPNOTSUPP to look again (the
 * interpreter ran and the guest is now in long mode), SVM_USER with an
 * exit for userspace, or -EINTR.
 */
static int svm_shadow_enter(struct hyvm_vcpu *vcpu, struct hyvm_svm_vcpu *sv)
{
	int ret = hyvm_svm_shadow_prepare(vcpu, sv);

	if (!ret)
		return SVM_RESUME;
	if (ret != -EOPNOTSUPP) {
		hyvm_exit_internal(vcpu, HYVM_INTERNAL_MEMORY,
				   sv->vmcb->save.rip, -ret);
		return SVM_USER;
	}
	svm_store_state(vcpu, sv);
	/* What the hardware had pending is the interpreter's now. */
	sv->vmcb->control.event_inj = 0;
	ret = hyvm_interp_run(vcpu, &sv->emu, &sv->sh.interp,
			      hyvm_shost_hw_can_run);
	svm_load_state(vcpu, sv);
	if (ret == 1)
		return -EOPNOTSUPP;
	return ret;
}

static int svm_vcpu_run(struct hyvm_vcpu *vcpu)
{
	struct hyvm_svm_vcpu *sv = vcpu->engine_priv;
	struct hyvm_run *run = vcpu->run;
	int ret;

	if (sv->shutdown) {
		hyvm_exit_shutdown(vcpu, vcpu->regs.rip);
		return 0;
	}
	if (sv->io_in_pending)
		svm_io_in_complete(vcpu, sv);
	/* Data userspace supplied for an emulated MMIO read. */
	hyvm_emu_resume(&sv->emu);
	svm_load_state(vcpu, sv);
	fpu_swap_kvm_fpstate(&sv->fpu, true);
	for (;;) {
		cond_resched();
		if (signal_pending(current)) {
			run->exit_reason = HYVM_EXIT_INTR;
			vcpu->stat.signal_exits++;
			ret = -EINTR;
			break;
		}
		if (sv->shadow) {
			ret = svm_shadow_enter(vcpu, sv);
			if (ret < 0 && ret != -EOPNOTSUPP)
				break;
			if (ret == -EOPNOTSUPP)
				continue;
			if (ret == SVM_USER)
				break;
		}
		ret = svm_enter(vcpu, sv);
		if (ret) {
			pr_warn_ratelimited("SVM was taken by another hypervisor on CPU %d\n",
					    raw_smp_processor_id());
			hyvm_exit_internal(vcpu, HYVM_INTERNAL_NOT_READY, ret, 0);
			break;
		}
		ret = svm_handle_exit(vcpu, sv);
		if (ret <= 0)
			break;
	}
	fpu_swap_kvm_fpstate(&sv->fpu, false);
	svm_store_state(vcpu, sv);
	return ret;
}

static void svm_slot_removed(struct hyvm_vm *vm, const struct hyvm_memslot *s)
{
	struct hyvm_svm_vm *svm = vm->engine_priv;

	if (svm->npt)
		hyvm_npt_slot_removed(vm, &svm->npt_tables, s->base_gfn,
				      s->npages);
	else
		hyvm_shost_slot_removed(vm, s->base_gfn, s->npages);
}

static void svm_vcpu_stats_show(struct hyvm_vcpu *vcpu, struct seq_file *m)
{
	const struct hyvm_svm_vcpu *sv = vcpu->engine_priv;

	if (!sv->shadow)
		return;
	seq_printf(m, "svm_interp_insns %llu\n", READ_ONCE(sv->sh.interp.insns));
	seq_printf(m, "svm_interp_exceptions %llu\n",
		   READ_ONCE(sv->sh.interp.exceptions));
}

const struct hyvm_engine_ops hyvm_svm_ops = {
	.id		= HYVM_ENGINE_SVM,
	.name		= "svm",
	.probe		= svm_probe,
	.vm_init	= svm_vm_init,
	.vm_destroy	= svm_vm_destroy,
	.vcpu_create	= svm_vcpu_create,
	.vcpu_free	= svm_vcpu_free,
	.vcpu_run	= svm_vcpu_run,
	.vcpu_stats_show = svm_vcpu_stats_show,
	.slot_removed	= svm_slot_removed,
};
