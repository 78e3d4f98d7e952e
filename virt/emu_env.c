// SPDX-License-Identifier: GPL-2.0
/*
 * The instruction emulator's environment in the kernel.
 *
 * Guest memory is reached by linear address: through the guest's page
 * tables (virt/shadow/walk.c) when CR0.PG is set, then through the memory
 * slots.  A physical address outside every slot is MMIO and goes to
 * userspace, as do all ports: the callback fills struct hyvm_run and either
 * lets the instruction complete (OUT, MMIO write: the vCPU leaves right
 * after it) or stops it before it changes anything (IN, MMIO read: it is
 * retried when userspace has supplied the value with the next HYVM_RUN).
 */
#include <linux/kernel.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include "emu_env.h"
#include "exit.h"
#include "gmem.h"
#include "shadow/walk.h"
#include "shadow_host.h"

static struct hyvm_emu_ctx *ctx_of(struct x86_emu *emu)
{
	return container_of(emu, struct hyvm_emu_ctx, emu);
}

/* Linear to physical, as the CPU would for this access. */
static int la_to_pa(struct hyvm_emu_ctx *ctx, u64 la, u32 access, u64 *pa)
{
	struct x86_emu *emu = &ctx->emu;
	struct hyvm_gmem_ops mem;
	struct hyvm_paging_mode m = {
		.cr0 = emu->cr0, .cr3 = emu->cr3, .cr4 = emu->cr4,
		.efer = emu->efer, .ac = emu->rflags & X86E_FL_AC,
		.maxphyaddr = ctx->maxphyaddr,
	};
	struct hyvm_walk w;

	hyvm_gmem_ops_init(&mem, ctx->vcpu->vm);
	if (!(emu->cr0 & X86E_CR0_PG)) {
		*pa = emu->efer & X86E_EFER_LMA ? la : (u32)la;
		return X86_EMU_CB_OK;
	}
	if (emu->cpl == 3)
		access |= HYVM_ACC_USER;
	/*
	 * PAE keeps the PDPTEs in registers loaded at CR3 writes; reading them
	 * on each walk differs only for guests that rewrite live PDPTEs.
	 */
	if (hyvm_paging_kind(&m) == HYVM_PAGING_PAE &&
	    hyvm_walk_load_pdptrs(&mem, &m))
		return x86_emu_fault(emu, X86_EXC_GP, true, 0);
	switch (hyvm_walk(&mem, &m, la, access, &w)) {
	case HYVM_WALK_OK:
		*pa = w.gpa;
		return X86_EMU_CB_OK;
	case HYVM_WALK_PF:
		return x86_emu_page_fault(emu, la, w.error_code);
	case HYVM_WALK_GP:
		return x86_emu_fault(emu, X86_EXC_GP, true, 0);
	default:
		/* A page table outside guest RAM: the VM cannot go on. */
		ctx->mem_error = true;
		return X86_EMU_CB_EXIT;
	}
}

static struct hyvm_emu_mmio_done *mmio_done(struct hyvm_emu_ctx *ctx, u64 gpa,
					    unsigned int len)
{
	unsigned int i;

	for (i = 0; i < ctx->ndone; i++)
		if (ctx->done[i].gpa == gpa && ctx->done[i].len == len)
			return &ctx->done[i];
	return NULL;
}

static int mmio_read(struct hyvm_emu_ctx *ctx, u64 gpa, void *buf,
		     unsigned int len)
{
	struct hyvm_run *run = ctx->vcpu->run;
	struct hyvm_emu_mmio_done *d = mmio_done(ctx, gpa, len);

	if (d) {
		memcpy(buf, d->data, len);
		return X86_EMU_CB_OK;
	}
	if (len > sizeof(run->mmio.data) || ctx->exit_after ||
	    ctx->ndone >= ARRAY_SIZE(ctx->done))
		return X86_EMU_CB_EXIT;
	run->exit_reason = HYVM_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = len;
	run->mmio.is_write = 0;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	ctx->mmio_wait = true;
	return X86_EMU_CB_EXIT;
}

static int mmio_write(struct hyvm_emu_ctx *ctx, u64 gpa, const void *buf,
		      unsigned int len)
{
	struct hyvm_run *run = ctx->vcpu->run;

	/* One exit per instruction: a second store retries the instruction. */
	if (len > sizeof(run->mmio.data) || ctx->exit_after)
		return X86_EMU_CB_EXIT;
	run->exit_reason = HYVM_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = len;
	run->mmio.is_write = 1;
	memcpy(run->mmio.data, buf, len);
	ctx->exit_after = true;
	return X86_EMU_CB_OK;
}

static int emu_access(struct x86_emu *emu, u64 la, void *buf,
		      const void *src, unsigned int n, u32 access)
{
	struct hyvm_emu_ctx *ctx = ctx_of(emu);

	while (n) {
		unsigned int chunk = min_t(u64, n, PAGE_SIZE - (la & ~PAGE_MASK));
		u64 pa;
		int ret = la_to_pa(ctx, la, access, &pa);

		if (ret)
			return ret;
		if (src && ctx->vcpu->vm->shost)
			/* Page-table stores must reach the shadow. */
			ret = hyvm_shost_write(ctx->vcpu->vm, pa, src, chunk);
		else if (src)
			ret = hyvm_gmem_write(ctx->vcpu->vm, pa, src, chunk);
		else
			ret = hyvm_gmem_read(ctx->vcpu->vm, pa, buf, chunk);
		if (ret == -ENOENT || ret == -EROFS) {
			ret = src ? mmio_write(ctx, pa, src, chunk) :
				    mmio_read(ctx, pa, buf, chunk);
			if (ret)
				return ret;
		} else if (ret) {
			ctx->mem_error = true;
			return X86_EMU_CB_EXIT;
		}
		la += chunk;
		n -= chunk;
		if (src)
			src += chunk;
		else
			buf += chunk;
	}
	return X86_EMU_CB_OK;
}

static int emu_read(struct x86_emu *emu, u64 la, void *buf, unsigned int n,
		    bool fetch)
{
	return emu_access(emu, la, buf, NULL, n, fetch ? HYVM_ACC_FETCH : 0);
}

static int emu_write(struct x86_emu *emu, u64 la, const void *buf,
		     unsigned int n)
{
	return emu_access(emu, la, NULL, buf, n, HYVM_ACC_WRITE);
}

static int emu_pio_in(struct x86_emu *emu, u16 port, unsigned int size,
		      u32 *val)
{
	struct hyvm_emu_ctx *ctx = ctx_of(emu);
	struct hyvm_run *run = ctx->vcpu->run;
	u8 *data = (u8 *)run + HYVM_RUN_IO_DATA_OFFSET;

	if (ctx->io_ready && run->io.port == port && run->io.size == size) {
		*val = 0;
		memcpy(val, data, size);
		ctx->io_ready = false;
		return X86_EMU_CB_OK;
	}
	if (ctx->exit_after)
		return X86_EMU_CB_EXIT;
	run->exit_reason = HYVM_EXIT_IO;
	run->io.direction = HYVM_IO_IN;
	run->io.size = size;
	run->io.port = port;
	run->io.count = 1;
	run->io.data_offset = HYVM_RUN_IO_DATA_OFFSET;
	memset(data, 0, 4);
	ctx->io_wait = true;
	return X86_EMU_CB_EXIT;
}

static int emu_pio_out(struct x86_emu *emu, u16 port, unsigned int size,
		       u32 val)
{
	struct hyvm_emu_ctx *ctx = ctx_of(emu);
	struct hyvm_run *run = ctx->vcpu->run;

	/* One element per exit: rep outs continues on the next HYVM_RUN. */
	if (ctx->exit_after)
		return X86_EMU_CB_EXIT;
	run->exit_reason = HYVM_EXIT_IO;
	run->io.direction = HYVM_IO_OUT;
	run->io.size = size;
	run->io.port = port;
	run->io.count = 1;
	run->io.data_offset = HYVM_RUN_IO_DATA_OFFSET;
	memcpy((u8 *)run + HYVM_RUN_IO_DATA_OFFSET, &val, size);
	ctx->exit_after = true;
	return X86_EMU_CB_OK;
}

/* The MSRs kept for the guest; anything else is #GP. */
static u64 *msr_slot(struct hyvm_emu_ctx *ctx, u32 msr)
{
	switch (msr) {
	case X86E_MSR_STAR:		return &ctx->msr.star;
	case X86E_MSR_LSTAR:		return &ctx->msr.lstar;
	case X86E_MSR_CSTAR:		return &ctx->msr.cstar;
	case X86E_MSR_FMASK:		return &ctx->msr.fmask;
	case X86E_MSR_KERNEL_GS_BASE:	return &ctx->msr.kernel_gs_base;
	case X86E_MSR_TSC_AUX:		return &ctx->msr.tsc_aux;
	case MSR_IA32_CR_PAT:		return &ctx->msr.pat;
	case MSR_IA32_SYSENTER_CS:	return &ctx->msr.sysenter_cs;
	case MSR_IA32_SYSENTER_ESP:	return &ctx->msr.sysenter_esp;
	case MSR_IA32_SYSENTER_EIP:	return &ctx->msr.sysenter_eip;
	case MSR_FS_BASE:		return &ctx->emu.seg[X86_SEG_FS].base;
	case MSR_GS_BASE:		return &ctx->emu.seg[X86_SEG_GS].base;
	default:			return NULL;
	}
}

static int emu_get_msr(struct x86_emu *emu, u32 msr, u64 *val)
{
	struct hyvm_emu_ctx *ctx = ctx_of(emu);
	u64 *p = msr_slot(ctx, msr);

	if (p)
		*val = *p;
	else if (msr == X86E_MSR_EFER)
		*val = emu->efer;
	else if (msr == MSR_IA32_TSC)
		*val = rdtsc() + ctx->msr.tsc_offset;
	else if (msr == MSR_IA32_APICBASE)
		*val = ctx->vcpu->sregs.apic_base;
	else
		return X86_EMU_CB_FAULT;
	return X86_EMU_CB_OK;
}

static int emu_set_msr(struct x86_emu *emu, u32 msr, u64 val)
{
	struct hyvm_emu_ctx *ctx = ctx_of(emu);
	u64 *p = msr_slot(ctx, msr);

	if (p) {
		*p = val;
	} else if (msr == X86E_MSR_EFER) {
		/* LMA is the CPU's: writes ignore it.  LME is fixed while paging. */
		val &= ~(u64)X86E_EFER_LMA;
		if (val & ~(u64)(X86E_EFER_SCE | X86E_EFER_LME | BIT(11)))
			return X86_EMU_CB_FAULT;
		if ((emu->cr0 & X86E_CR0_PG) &&
		    ((val ^ emu->efer) & X86E_EFER_LME))
			return X86_EMU_CB_FAULT;
		emu->efer = (emu->efer & X86E_EFER_LMA) | val;
	} else if (msr == MSR_IA32_TSC) {
		ctx->msr.tsc_offset = val - rdtsc();
	} else {
		return X86_EMU_CB_FAULT;
	}
	return X86_EMU_CB_OK;
}

/*
 * The emulator checked the reserved bits; what the CPU does beyond storing
 * the value happens here: CR0.PG with EFER.LME activates long mode.
 */
static int emu_set_cr(struct x86_emu *emu, unsigned int cr, u64 val)
{
	switch (cr) {
	case 0:
		if ((val & X86E_CR0_PG) && !(emu->cr0 & X86E_CR0_PG) &&
		    (emu->efer & X86E_EFER_LME)) {
			if (!(emu->cr4 & X86E_CR4_PAE))
				return x86_emu_fault(emu, X86_EXC_GP, true, 0);
			emu->efer |= X86E_EFER_LMA;
		}
		if (!(val & X86E_CR0_PG))
			emu->efer &= ~X86E_EFER_LMA;
		emu->cr0 = val;
		break;
	case 2:
		emu->cr2 = val;
		break;
	case 3:
		emu->cr3 = val;
		break;
	case 4:
		if ((emu->efer & X86E_EFER_LMA) && !(val & X86E_CR4_PAE))
			return x86_emu_fault(emu, X86_EXC_GP, true, 0);
		emu->cr4 = val;
		break;
	case 8:
		emu->cr8 = val;
		break;
	}
	return X86_EMU_CB_OK;
}

/* The same CPU the hardware engines show (virt/cpuid.c). */
static void emu_cpuid(struct x86_emu *emu, u32 leaf, u32 subleaf, u32 out[4])
{
	hyvm_cpuid(ctx_of(emu)->vcpu, leaf, subleaf, out);
}

static u64 emu_rdtsc(struct x86_emu *emu)
{
	return rdtsc() + ctx_of(emu)->msr.tsc_offset;
}

static int emu_nop(struct x86_emu *emu, u64 la)
{
	return X86_EMU_CB_OK;
}

static int emu_wbinvd(struct x86_emu *emu)
{
	return X86_EMU_CB_OK;
}

/* Fixed bits of DR6 (1s) and DR7 (bit 10 is 1; 11, 12, 14, 15 are 0). */
#define DR6_FIXED_1	0xffff0ff0ULL
#define DR6_WRITABLE	0x0000e00fULL
#define DR7_FIXED_1	0x400ULL
#define DR7_FIXED_0	0xd800ULL

/* The emulator checked CPL, DR4/5 aliasing and the high bits of DR6/7. */
static int emu_set_dr(struct x86_emu *emu, unsigned int dr, u64 val)
{
	if (dr == 6)
		val = (val & DR6_WRITABLE) | DR6_FIXED_1;
	else if (dr == 7)
		val = (val & ~DR7_FIXED_0) | DR7_FIXED_1;
	ctx_of(emu)->dr[dr & 7] = val;
	return X86_EMU_CB_OK;
}

static u64 emu_get_dr(struct x86_emu *emu, unsigned int dr)
{
	return ctx_of(emu)->dr[dr & 7];
}

static const struct x86_emu_ops hyvm_emu_ops = {
	.read	 = emu_read,
	.write	 = emu_write,
	.pio_in	 = emu_pio_in,
	.pio_out = emu_pio_out,
	.get_msr = emu_get_msr,
	.set_msr = emu_set_msr,
	.set_cr	 = emu_set_cr,
	.set_dr	 = emu_set_dr,
	.get_dr	 = emu_get_dr,
	.cpuid	 = emu_cpuid,
	.rdtsc	 = emu_rdtsc,
	.invlpg	 = emu_nop,
	.wbinvd	 = emu_wbinvd,
};

void hyvm_emu_ctx_init(struct hyvm_emu_ctx *ctx, struct hyvm_vcpu *vcpu)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->vcpu = vcpu;
	ctx->emu.ops = &hyvm_emu_ops;
	ctx->msr.pat = 0x0007040600070406ULL;	/* the power-on PAT */
	ctx->dr[6] = DR6_FIXED_1;		/* and the power-on DR6, DR7 */
	ctx->dr[7] = DR7_FIXED_1;
	/* What CPUID 0x80000008 tells the guest: reserved bits start there. */
	ctx->maxphyaddr = 36;
	if (cpuid_eax(0x80000000) >= 0x80000008)
		ctx->maxphyaddr = cpuid_eax(0x80000008) & 0xff;
}

static void seg_in(struct x86_segment *d, const struct hyvm_segment *s)
{
	d->base = s->base;
	d->limit = s->limit;
	d->sel = s->selector;
	d->attr = (s->type & 0xf) | (s->s ? X86_SEG_ATTR_S : 0) |
		  ((s->dpl & 3) << 5) | (s->present ? X86_SEG_ATTR_P : 0) |
		  (s->avl ? BIT(12) : 0) | (s->l ? X86_SEG_ATTR_L : 0) |
		  (s->db ? X86_SEG_ATTR_DB : 0) | (s->g ? X86_SEG_ATTR_G : 0) |
		  (s->unusable ? X86_SEG_ATTR_UNUSABLE : 0);
}

static void seg_out(struct hyvm_segment *d, const struct x86_segment *s)
{
	memset(d, 0, sizeof(*d));
	d->base = s->base;
	d->limit = s->limit;
	d->selector = s->sel;
	d->type = s->attr & X86_SEG_ATTR_TYPE;
	d->s = !!(s->attr & X86_SEG_ATTR_S);
	d->dpl = (s->attr & X86_SEG_ATTR_DPL) >> 5;
	d->present = !!(s->attr & X86_SEG_ATTR_P);
	d->avl = !!(s->attr & BIT(12));
	d->l = !!(s->attr & X86_SEG_ATTR_L);
	d->db = !!(s->attr & X86_SEG_ATTR_DB);
	d->g = !!(s->attr & X86_SEG_ATTR_G);
	d->unusable = !!(s->attr & X86_SEG_ATTR_UNUSABLE);
}

/**
 * hyvm_emu_load - copy the vCPU's registers into the emulator's view
 * @ctx: the context
 */
void hyvm_emu_load(struct hyvm_emu_ctx *ctx)
{
	const struct hyvm_regs *r = &ctx->vcpu->regs;
	const struct hyvm_sregs *s = &ctx->vcpu->sregs;
	struct x86_emu *e = &ctx->emu;

	e->gpr[X86_RAX] = r->rax; e->gpr[X86_RCX] = r->rcx;
	e->gpr[X86_RDX] = r->rdx; e->gpr[X86_RBX] = r->rbx;
	e->gpr[X86_RSP] = r->rsp; e->gpr[X86_RBP] = r->rbp;
	e->gpr[X86_RSI] = r->rsi; e->gpr[X86_RDI] = r->rdi;
	e->gpr[X86_R8] = r->r8;   e->gpr[X86_R9] = r->r9;
	e->gpr[X86_R10] = r->r10; e->gpr[X86_R11] = r->r11;
	e->gpr[X86_R12] = r->r12; e->gpr[X86_R13] = r->r13;
	e->gpr[X86_R14] = r->r14; e->gpr[X86_R15] = r->r15;
	e->rip = r->rip;
	e->rflags = r->rflags;
	seg_in(&e->seg[X86_SEG_ES], &s->es);
	seg_in(&e->seg[X86_SEG_CS], &s->cs);
	seg_in(&e->seg[X86_SEG_SS], &s->ss);
	seg_in(&e->seg[X86_SEG_DS], &s->ds);
	seg_in(&e->seg[X86_SEG_FS], &s->fs);
	seg_in(&e->seg[X86_SEG_GS], &s->gs);
	seg_in(&e->ldtr, &s->ldt);
	seg_in(&e->tr, &s->tr);
	e->gdtr.base = s->gdt.base;
	e->gdtr.limit = s->gdt.limit;
	e->idtr.base = s->idt.base;
	e->idtr.limit = s->idt.limit;
	e->cr0 = s->cr0; e->cr2 = s->cr2; e->cr3 = s->cr3;
	e->cr4 = s->cr4; e->cr8 = s->cr8; e->efer = s->efer;
	x86_emu_update_mode(e);
}

/**
 * hyvm_emu_store - copy the emulator's view back into the vCPU
 * @ctx: the context
 */
void hyvm_emu_store(struct hyvm_emu_ctx *ctx)
{
	struct hyvm_regs *r = &ctx->vcpu->regs;
	struct hyvm_sregs *s = &ctx->vcpu->sregs;
	const struct x86_emu *e = &ctx->emu;

	r->rax = e->gpr[X86_RAX]; r->rcx = e->gpr[X86_RCX];
	r->rdx = e->gpr[X86_RDX]; r->rbx = e->gpr[X86_RBX];
	r->rsp = e->gpr[X86_RSP]; r->rbp = e->gpr[X86_RBP];
	r->rsi = e->gpr[X86_RSI]; r->rdi = e->gpr[X86_RDI];
	r->r8 = e->gpr[X86_R8];   r->r9 = e->gpr[X86_R9];
	r->r10 = e->gpr[X86_R10]; r->r11 = e->gpr[X86_R11];
	r->r12 = e->gpr[X86_R12]; r->r13 = e->gpr[X86_R13];
	r->r14 = e->gpr[X86_R14]; r->r15 = e->gpr[X86_R15];
	r->rip = e->rip;
	r->rflags = e->rflags;
	seg_out(&s->es, &e->seg[X86_SEG_ES]);
	seg_out(&s->cs, &e->seg[X86_SEG_CS]);
	seg_out(&s->ss, &e->seg[X86_SEG_SS]);
	seg_out(&s->ds, &e->seg[X86_SEG_DS]);
	seg_out(&s->fs, &e->seg[X86_SEG_FS]);
	seg_out(&s->gs, &e->seg[X86_SEG_GS]);
	seg_out(&s->ldt, &e->ldtr);
	seg_out(&s->tr, &e->tr);
	s->gdt.base = e->gdtr.base;
	s->gdt.limit = e->gdtr.limit;
	s->idt.base = e->idtr.base;
	s->idt.limit = e->idtr.limit;
	s->cr0 = e->cr0; s->cr2 = e->cr2; s->cr3 = e->cr3;
	s->cr4 = e->cr4; s->cr8 = e->cr8; s->efer = e->efer;
}

/**
 * hyvm_emu_resume - take what userspace supplied for the last exit
 * @ctx: the context
 *
 * Called at the start of HYVM_RUN: the data of an IN or MMIO read is in the
 * run page now, for the instruction that is about to be retried.
 */
void hyvm_emu_resume(struct hyvm_emu_ctx *ctx)
{
	struct hyvm_run *run = ctx->vcpu->run;

	if (ctx->io_wait) {
		ctx->io_wait = false;
		ctx->io_ready = true;
	}
	if (ctx->mmio_wait && ctx->ndone < ARRAY_SIZE(ctx->done)) {
		struct hyvm_emu_mmio_done *d = &ctx->done[ctx->ndone++];

		d->gpa = run->mmio.phys_addr;
		d->len = min_t(u32, run->mmio.len, sizeof(d->data));
		memcpy(d->data, run->mmio.data, d->len);
	}
	ctx->mmio_wait = false;
	ctx->exit_after = false;
}

/**
 * hyvm_emu_insn_done - an instruction completed: forget its replayed I/O
 * @ctx: the context
 */
void hyvm_emu_insn_done(struct hyvm_emu_ctx *ctx)
{
	ctx->ndone = 0;
	ctx->io_ready = false;
}
