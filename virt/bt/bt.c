// SPDX-License-Identifier: GPL-2.0
/*
 * The bt engine: the software VMM.  It needs no VT-x or AMD-V.
 *
 * Guest kernel code, and anything not in 64-bit long mode, runs in the
 * interpreter (interp.c).  With direct execution on (bt_direct, the
 * default), guest user code runs at real CPL3 in a guest world on the
 * shadow MMU's user view (world.c): the interpreter hands the vCPU over
 * when it reaches CPL3 in long mode, and takes it back for whatever the
 * guest world cannot finish (a SYSCALL, a true page fault, any other
 * exception, a mode the world cannot run).  The translator that will run
 * guest kernel code in the same world comes on top of this.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <asm/fpu/api.h>
#include "bt.h"
#include "../exit.h"
#include "../shadow_host.h"
#include "../hyvm_trace.h"
#include "../../arch-x86/cpu_probe.h"

static bool bt_direct = true;
module_param(bt_direct, bool, 0644);
MODULE_PARM_DESC(bt_direct,
		 "bt: run guest user code directly at CPL3 (new VMs)");

static bool bt_translate = true;
module_param(bt_translate, bool, 0644);
MODULE_PARM_DESC(bt_translate,
		 "bt: run guest kernel code translated, with bt_direct (new VMs)");

static unsigned int bt_linger = 32;
module_param(bt_linger, uint, 0644);
MODULE_PARM_DESC(bt_linger,
		 "bt: guest kernel instructions interpreted after one that wrote a page table");

/* Identical hidden faults in a row before the interpreter takes over. */
#define BT_PF_REPEATS	64

struct hyvm_bt_vm {
	bool direct, user, xlat;
	struct bt_world_vm wv;
	struct bt_xlat_vm xv;
};

/* An emulated store reached a frame translated code came from. */
static void bt_code_written(struct hyvm_vm *vm, u64 gfn)
{
	struct hyvm_bt_vm *b = vm->engine_priv;

	if (b && b->xlat)
		hyvm_bt_xlat_code_written(&b->xv, vm, gfn, false);
}

static int bt_vm_init(struct hyvm_vm *vm)
{
	struct hyvm_bt_vm *b = kzalloc(sizeof(*b), GFP_KERNEL_ACCOUNT);
	const char *why = hyvm_bt_world_unavailable();
	int ret;

	if (!b)
		return -ENOMEM;
	b->direct = READ_ONCE(bt_direct) && !why;
	if (READ_ONCE(bt_direct) && why)
		pr_info_once("bt: guest user code runs in the interpreter: %s\n",
			     why);
	/*
	 * Without UMIP, SGDT, SIDT, SLDT, SMSW and STR at CPL3 cannot be
	 * made to fault: directly run user code would read the monitor's
	 * tables.  Guest kernel code is translated all the same (the
	 * translator makes them callouts).
	 */
	b->user = b->direct && boot_cpu_has(X86_FEATURE_UMIP);
	if (b->direct && !b->user)
		pr_info_once("bt: guest user code stays in the interpreter: no UMIP, SGDT, SIDT, SLDT, SMSW and STR at CPL3 would show the monitor's tables\n");
	if (b->direct) {
		ret = hyvm_shost_init(vm);
		if (ret)
			goto err_free;
		ret = hyvm_bt_world_vm_init(vm, &b->wv);
		if (ret)
			goto err_shost;
		b->xlat = READ_ONCE(bt_translate);
		if (b->xlat) {
			ret = hyvm_bt_xlat_vm_init(vm, &b->xv);
			if (ret)
				goto err_world;
			hyvm_shost_set_code_hook(vm, bt_code_written);
		}
	}
	vm->engine_priv = b;
	return 0;

err_world:
	hyvm_bt_world_vm_destroy(&b->wv);
err_shost:
	hyvm_shost_destroy(vm);
err_free:
	kfree(b);
	return ret;
}

static void bt_vm_destroy(struct hyvm_vm *vm)
{
	struct hyvm_bt_vm *b = vm->engine_priv;

	if (!b)
		return;
	hyvm_shost_destroy(vm);
	hyvm_bt_world_vm_destroy(&b->wv);
	hyvm_bt_xlat_vm_destroy(&b->xv);
	kfree(b);
	vm->engine_priv = NULL;
}

static int bt_vcpu_create(struct hyvm_vcpu *vcpu)
{
	struct hyvm_bt_vm *b = vcpu->vm->engine_priv;
	struct hyvm_bt_vcpu *bt = kzalloc(sizeof(*bt), GFP_KERNEL_ACCOUNT);
	int ret;

	if (!bt)
		return -ENOMEM;
	hyvm_emu_ctx_init(&bt->emu, vcpu);
	bt->direct = b->direct;
	bt->user = b->user;
	if (bt->direct) {
		ret = -ENOMEM;
		if (!fpu_alloc_guest_fpstate(&bt->fpu))
			goto err_free;
		ret = hyvm_bt_world_vcpu_init(&b->wv, &bt->world, vcpu->id);
		if (ret)
			goto err_fpu;
		hyvm_shost_vcpu_init_bt(vcpu, &bt->sh);
	}
	if (bt->direct && b->xlat) {
		ret = -ENOMEM;
		bt->xl = kvzalloc(sizeof(*bt->xl), GFP_KERNEL_ACCOUNT);
		if (!bt->xl)
			goto err_world;
		bt->xv = &b->xv;
		ret = hyvm_bt_xlat_vcpu_init(bt->xv, bt->xl, vcpu, &bt->emu.emu,
					     bt->emu.maxphyaddr);
		if (ret)
			goto err_xl;
	}
	vcpu->engine_priv = bt;
	return 0;

err_xl:
	kvfree(bt->xl);
err_world:
	hyvm_shost_vcpu_destroy(vcpu, &bt->sh);
	hyvm_bt_world_vcpu_destroy(&b->wv, &bt->world);
err_fpu:
	fpu_free_guest_fpstate(&bt->fpu);
err_free:
	kfree(bt);
	return ret;
}

static void bt_vcpu_free(struct hyvm_vcpu *vcpu)
{
	struct hyvm_bt_vm *b = vcpu->vm->engine_priv;
	struct hyvm_bt_vcpu *bt = vcpu->engine_priv;

	if (!bt)
		return;
	if (bt->xl) {
		hyvm_bt_xlat_vcpu_destroy(bt->xv, bt->xl);
		kvfree(bt->xl);
	}
	if (bt->direct) {
		hyvm_shost_vcpu_destroy(vcpu, &bt->sh);
		hyvm_bt_world_vcpu_destroy(&b->wv, &bt->world);
		fpu_free_guest_fpstate(&bt->fpu);
	}
	kfree(bt);
	vcpu->engine_priv = NULL;
}

static int bt_internal(struct hyvm_vcpu *vcpu, u32 suberror, u64 d0, u64 d1)
{
	hyvm_exit_internal(vcpu, suberror, d0, d1);
	return 0;
}

/* A #PF the guest world took: the shadow's or the guest kernel's. */
static int bt_world_pf(struct hyvm_vcpu *vcpu, struct hyvm_bt_vcpu *bt,
		       const struct bt_world_exit *x)
{
	struct x86_emu *e = &bt->emu.emu;
	struct hyvm_shadow_fault f;

	/*
	 * Guest user code's own accesses: the only supervisor ones at CPL3
	 * (descriptor tables, the TSS) are the monitor's, which never fault,
	 * but an emulated CPU may pop IRETQ's frame as a supervisor.  Either
	 * way the user view, which the CPU runs on, is the one to fill.
	 */
	switch (hyvm_shost_page_fault(vcpu, &bt->sh, 3, false, x->cr2,
				      x->error | HYVM_ACC_USER, &f)) {
	case HYVM_SHADOW_RETRY:
		bt->wstat.pf_hidden++;
		/*
		 * The same fault again and again means the CPU keeps failing
		 * on something the shadow believes it mapped: the interpreter
		 * makes the access instead of spinning here.
		 */
		if (x->cr2 == bt->pf_cr2 && e->rip == bt->pf_rip) {
			if (++bt->pf_repeats >= BT_PF_REPEATS) {
				bt->pf_repeats = 0;
				bt->wstat.pf_emulate++;
				return 1;
			}
		} else {
			bt->pf_cr2 = x->cr2;
			bt->pf_rip = e->rip;
			bt->pf_repeats = 0;
		}
		return 2;
	case HYVM_SHADOW_GUEST_PF:
		bt->wstat.pf_guest++;
		return hyvm_interp_deliver(vcpu, &bt->emu, &bt->stat, X86_EXC_PF,
					   true, f.error_code, f.cr2) ? 0 : 1;
	case HYVM_SHADOW_GUEST_GP:
		bt->wstat.pf_guest++;
		return hyvm_interp_deliver(vcpu, &bt->emu, &bt->stat, X86_EXC_GP,
					   true, 0, 0) ? 0 : 1;
	case HYVM_SHADOW_EMULATE:
	case HYVM_SHADOW_MMIO:
		/* The interpreter performs the access. */
		bt->wstat.pf_emulate++;
		return 1;
	case HYVM_SHADOW_CODE_WRITE:
		/* Guest user code wrote a frame kernel code was translated from. */
		bt->wstat.pf_hidden++;
		if (bt->xv)
			hyvm_bt_xlat_code_written(bt->xv, vcpu->vm,
						  f.gpa >> PAGE_SHIFT, false);
		else
			hyvm_shost_unprotect_code(vcpu->vm, f.gpa >> PAGE_SHIFT);
		return 2;
	case HYVM_SHADOW_FIXED:
		return bt_internal(vcpu, HYVM_INTERNAL_VMM_REGION, x->cr2, e->rip);
	default:
		return bt_internal(vcpu, HYVM_INTERNAL_MEMORY, e->rip, x->cr2);
	}
}

/*
 * Why the guest world was left, and what comes next: 2 to enter it again,
 * 1 for the interpreter, 0 for an exit to userspace (run page set).
 */
static int bt_world_exit(struct hyvm_vcpu *vcpu, struct hyvm_bt_vcpu *bt,
			 const struct bt_world_exit *x)
{
	struct x86_emu *e = &bt->emu.emu;
	u16 insn = 0;

	switch (x->reason) {
	case BT_WX_INTERRUPT:
		bt->wstat.exit_interrupt++;
		return 2;
	case BT_WX_SYSCALL:
		/*
		 * The interpreter runs the SYSCALL again: it overwrites RCX
		 * and R11 with the RIP and RFLAGS they hold already.
		 */
		bt->wstat.exit_syscall++;
		e->rip -= 2;
		if (e->ops->read(e, e->seg[X86_SEG_CS].base + e->rip, &insn, 2,
				 true) || insn != 0x050f)
			return bt_internal(vcpu, HYVM_INTERNAL_EMULATION,
					   e->rip, insn);
		return 1;
	case BT_WX_EXCEPTION:
		if (x->vector == X86_EXC_PF) {
			bt->wstat.exit_pf++;
			return bt_world_pf(vcpu, bt, x);
		}
		bt->wstat.exit_exception++;
		switch (x->vector) {
		case X86_EXC_DB:	/* ICEBP or POPF-set TF: traps */
		case X86_EXC_MF:
		case 19:		/* #XM */
			return hyvm_interp_deliver(vcpu, &bt->emu, &bt->stat,
						   x->vector, false, 0, 0) ? 0 : 1;
		default:
			/*
			 * #GP for cli, in, out, int n (every gate is DPL 0),
			 * #UD, #DE, #BP, ...: the interpreter runs the
			 * instruction again with the guest's own tables and
			 * raises exactly what the guest would see.
			 */
			return 1;
		}
	default:
		bt->wstat.exit_monitor_fault++;
		pr_err_ratelimited("hyvm bt: monitor fault, vector %u at %#llx\n",
				   x->vector, x->cr2);
		return bt_internal(vcpu, HYVM_INTERNAL_MONITOR, x->vector,
				   x->cr2);
	}
}

/* Guest user code, directly: 2 to go on, else as bt_run_world(). */
static int bt_run_direct(struct hyvm_vcpu *vcpu, struct hyvm_bt_vcpu *bt)
{
	struct x86_emu *e = &bt->emu.emu;
	struct hyvm_paging_mode m = {
		.cr0 = e->cr0, .cr3 = e->cr3, .cr4 = e->cr4,
		.efer = e->efer, .maxphyaddr = bt->emu.maxphyaddr,
	};
	struct bt_world_exit x;
	u64 root;
	int err;

	err = hyvm_shost_root_view(vcpu, &bt->sh, &m, HYVM_VIEW_USER, &root);
	if (err)
		return bt_internal(vcpu, HYVM_INTERNAL_MEMORY, e->rip, -err);
	preempt_disable();
	/* The guest's FPU state goes back into the registers if it left. */
	if (test_thread_flag(TIF_NEED_FPU_LOAD))
		switch_fpu_return();
	hyvm_bt_world_enter(vcpu, &bt->world, e, root, &x);
	preempt_enable();
	bt->wstat.entries++;
	trace_hyvm_bt_world_exit(vcpu->vm->id, vcpu->id, false, x.reason,
				 x.vector, e->rip);
	return bt_world_exit(vcpu, bt, &x);
}

/*
 * Guest code in the guest world (user code directly, kernel code
 * translated) until it needs the interpreter (1), userspace (0) or a
 * signal is pending (-EINTR).  A CCF suspended in the middle of a guest
 * instruction is always resumed first: only then is the guest's state
 * whole again.
 */
static int bt_run_world(struct hyvm_vcpu *vcpu, struct hyvm_bt_vcpu *bt)
{
	struct hyvm_emu_ctx *ctx = &bt->emu;
	struct x86_emu *e = &ctx->emu;
	int ret = 1;

	hyvm_emu_load(ctx);
	for (;;) {
		bool in_tc = bt->xl && bt->xl->in_tc;

		if (!in_tc && signal_pending(current)) {
			vcpu->run->exit_reason = HYVM_EXIT_INTR;
			vcpu->stat.signal_exits++;
			ret = -EINTR;
			break;
		}
		cond_resched();
		if (in_tc || (bt->xl && hyvm_bt_world_can_translate(e)))
			ret = hyvm_bt_run_tc(vcpu, bt);
		else if (bt->user && hyvm_bt_world_can_run(e))
			ret = bt_run_direct(vcpu, bt);
		else
			ret = 1;
		if (ret != 2)
			break;
	}
	hyvm_emu_store(ctx);
	return ret;
}

/* The interpreter's leave predicate: the guest world can run this. */
static bool bt_world_can(const struct x86_emu *e)
{
	const struct hyvm_emu_ctx *ctx = container_of(e, struct hyvm_emu_ctx,
						      emu);
	const struct hyvm_bt_vcpu *bt = ctx->vcpu->engine_priv;

	return bt->user && hyvm_bt_world_can_run(e);
}

/**
 * hyvm_bt_linger - watch whether the interpreter should keep the vCPU
 * @bt: the vCPU, about to interpret a callout or a trace-faulting store
 *
 * A round trip between the guest world and the monitor costs tens of
 * interpreted instructions.  Code whose callouts write page tables
 * usually writes many in a loop (fork copying an address space): when the
 * instruction just handed over wrote a traced page table, the interpreter
 * keeps guest kernel code for bt_linger instructions, and bt_linger more
 * after each further page-table write.  Other callouts go straight back
 * to translated code; guest user code, which runs directly, ends it.
 */
void hyvm_bt_linger(struct hyvm_bt_vcpu *bt)
{
	bt->linger_watch = true;
	bt->linger_gen = hyvm_shost_pt_changes(bt->emu.vcpu->vm);
}

static bool bt_world_or_tc(const struct x86_emu *e)
{
	const struct hyvm_emu_ctx *ctx = container_of(e, struct hyvm_emu_ctx,
						      emu);
	struct hyvm_bt_vcpu *bt = ctx->vcpu->engine_priv;

	if (bt->user && hyvm_bt_world_can_run(e)) {
		bt->linger = 0;
		bt->linger_watch = false;
		return true;
	}
	if (bt->linger_watch || bt->linger) {
		u64 gen = hyvm_shost_pt_changes(ctx->vcpu->vm);

		if (gen != bt->linger_gen) {
			bt->linger = READ_ONCE(bt_linger);
			bt->linger_gen = gen;
		}
		bt->linger_watch = false;
		if (bt->linger) {
			bt->linger--;
			return false;
		}
	}
	return hyvm_bt_world_can_translate(e);
}

static int bt_vcpu_run(struct hyvm_vcpu *vcpu)
{
	struct hyvm_bt_vcpu *bt = vcpu->engine_priv;
	int ret;

	if (!bt->user && !bt->xl)
		return hyvm_interp_run(vcpu, &bt->emu, &bt->stat, NULL);
	fpu_swap_kvm_fpstate(&bt->fpu, true);
	for (;;) {
		ret = hyvm_interp_run(vcpu, &bt->emu, &bt->stat,
				      bt->xl ? bt_world_or_tc : bt_world_can);
		if (ret != 1)
			break;
		ret = bt_run_world(vcpu, bt);
		if (ret != 1)
			break;
	}
	fpu_swap_kvm_fpstate(&bt->fpu, false);
	return ret;
}

static void bt_slot_removed(struct hyvm_vm *vm, const struct hyvm_memslot *s)
{
	struct hyvm_bt_vm *b = vm->engine_priv;

	if (b && b->xlat)
		hyvm_bt_xlat_slot_removed(&b->xv, vm, s->base_gfn, s->npages);
	if (b && b->direct)
		hyvm_shost_slot_removed(vm, s->base_gfn, s->npages);
}

static void bt_vcpu_stats_show(struct hyvm_vcpu *vcpu, struct seq_file *m)
{
	const struct hyvm_bt_vcpu *bt = vcpu->engine_priv;
	const struct hyvm_bt_world_stat *w = &bt->wstat;

	seq_printf(m, "bt_insns %llu\n", READ_ONCE(bt->stat.insns));
	seq_printf(m, "bt_exceptions %llu\n", READ_ONCE(bt->stat.exceptions));
	seq_printf(m, "bt_io_exits %llu\n", READ_ONCE(bt->stat.io_exits));
	seq_printf(m, "bt_mmio_exits %llu\n", READ_ONCE(bt->stat.mmio_exits));
	seq_printf(m, "bt_direct %u\n", bt->direct);
	seq_printf(m, "bt_direct_user %u\n", bt->user);
	seq_printf(m, "bt_world_entries %llu\n", READ_ONCE(w->entries));
	seq_printf(m, "bt_world_exit_interrupt %llu\n",
		   READ_ONCE(w->exit_interrupt));
	seq_printf(m, "bt_world_exit_syscall %llu\n", READ_ONCE(w->exit_syscall));
	seq_printf(m, "bt_world_exit_pf %llu\n", READ_ONCE(w->exit_pf));
	seq_printf(m, "bt_world_exit_exception %llu\n",
		   READ_ONCE(w->exit_exception));
	seq_printf(m, "bt_world_exit_monitor_fault %llu\n",
		   READ_ONCE(w->exit_monitor_fault));
	seq_printf(m, "bt_world_pf_hidden %llu\n", READ_ONCE(w->pf_hidden));
	seq_printf(m, "bt_world_pf_guest %llu\n", READ_ONCE(w->pf_guest));
	seq_printf(m, "bt_world_pf_emulate %llu\n", READ_ONCE(w->pf_emulate));
	if (bt->direct) {
		seq_printf(m, "bt_world_audits %llu\n",
			   READ_ONCE(bt->world.audits));
		seq_printf(m, "bt_world_audit_bad %llu\n",
			   READ_ONCE(bt->world.audit_bad));
	}
	if (bt->xl)
		hyvm_bt_xlat_stats_show(bt->xl, m);
}

const struct hyvm_engine_ops hyvm_bt_ops = {
	.id		= HYVM_ENGINE_BT,
	.name		= "bt",
	.probe		= hyvm_probe_bt,
	.vm_init	= bt_vm_init,
	.vm_destroy	= bt_vm_destroy,
	.vcpu_create	= bt_vcpu_create,
	.vcpu_free	= bt_vcpu_free,
	.vcpu_run	= bt_vcpu_run,
	.vcpu_stats_show = bt_vcpu_stats_show,
	.slot_removed	= bt_slot_removed,
};
