// SPDX-License-Identifier: GPL-2.0
/*
 * Guest kernel code run translated in the guest world: one entry into the
 * vCPU's translation cache and what its exit means.
 *
 * Translated code runs at CPL3 on the kernel-view shadow root.  It leaves
 * the world through the exit stub (a CCF exit: continuation, indirect
 * miss, callout, #UD, interrupt window), through an exception inside a
 * CCF (mapped back to the guest instruction with bt_tc_map_addr()), or
 * through a host interrupt.  A host interrupt in the middle of a guest
 * instruction's code resumes the CCF where it stopped (@in_tc): only at an
 * instruction's first byte is the guest's state whole.
 */
#include <linux/sched.h>
#include <asm/fpu/api.h>
#include "bt.h"
#include "translate.h"
#include "../exit.h"
#include "../shadow_host.h"
#include "../hyvm_trace.h"

#define BT_FL_ALL	(BT_FL_HW | BT_FL_IF | BT_FL_VIRT)

static int xr_internal(struct hyvm_vcpu *vcpu, u32 suberror, u64 d0, u64 d1)
{
	hyvm_exit_internal(vcpu, suberror, d0, d1);
	return 0;
}

/*
 * An exception for the guest, delivered once the xlat lock is dropped:
 * delivery writes guest memory, which may be translated code (whose
 * hook takes the lock).
 */
static int xr_deliver(struct hyvm_bt_vcpu *bt, u8 vector, bool has_error,
		      u32 error, u64 cr2)
{
	bt->xl->pend.vector = vector;
	bt->xl->pend.has_error = has_error;
	bt->xl->pend.error = error;
	bt->xl->pend.cr2 = cr2;
	return 3;
}

/* The guest's registers and flags from the real ones at an exit. */
static void to_guest(struct bt_xlat *xl, struct x86_emu *e, u16 saved)
{
	unsigned int i;

	for (i = 0; i < 16; i++)
		e->gpr[i] = (saved & BIT(i)) ? READ_ONCE(xl->area->save[i]) :
					       xl->regs.gpr[i];
	e->rflags = (e->rflags & ~BT_FL_ALL) |
		    bt_area_rflags(xl->area, xl->regs.rflags);
}

/* The guest state at a TC address inside a CCF, or false. */
static bool to_guest_at(struct bt_xlat *xl, struct x86_emu *e,
			struct bt_precise *p)
{
	if (!bt_tc_map_addr(&xl->tc, xl->regs.rip, p))
		return false;
	to_guest(xl, e, p->saved);
	e->rip = p->rip;
	return true;
}

/* Get ready to enter at the guest's RIP; 1 when it cannot be translated. */
static int xr_prepare(struct hyvm_bt_vcpu *bt, struct bt_xlat *xl,
		      struct x86_emu *e)
{
	struct bt_tu *tu;
	int ret;

	/* Never under a suspended CCF: its map and exits must stay. */
	if (xl->flush_pending && !xl->in_tc)
		hyvm_bt_xlat_flush(xl);
	hyvm_bt_xlat_judge(xl);
	/*
	 * What a TU was translated under: the code's mapping (its page
	 * tables are protected: a write sets reval) and the paging controls
	 * that decide whether it may be fetched (NX, SMEP).
	 */
	if (xl->reval || e->cr3 != xl->seen_cr3 || e->cr0 != xl->seen_cr0 ||
	    e->cr4 != xl->seen_cr4 || e->efer != xl->seen_efer) {
		ret = hyvm_bt_xlat_revalidate(xl);
		if (ret)
			return ret;
		xl->reval = false;
		xl->seen_cr3 = e->cr3;
		xl->seen_cr0 = e->cr0;
		xl->seen_cr4 = e->cr4;
		xl->seen_efer = e->efer;
	}
	if (xl->in_tc)
		return 0;
	tu = hyvm_bt_xlat_get(xl, e->rip);
	if (!tu)
		return 1;
	memcpy(xl->regs.gpr, e->gpr, sizeof(xl->regs.gpr));
	xl->regs.rip = bt_tu_exec(&xl->tc, tu);
	xl->regs.rflags = bt_area_set_rflags(xl->area, e->rflags);
	xl->area->exit_reason = BT_EXIT_NONE;
	xl->area->vcpl = 0;
	xl->area->irq_pending = 0;
	return 0;
}

/* A CCF left through the exit stub. */
static int xr_ccf_exit(struct hyvm_vcpu *vcpu, struct hyvm_bt_vcpu *bt,
		       struct bt_xlat *xl, struct x86_emu *e)
{
	struct bt_exit x;
	struct bt_tu *tu;
	u64 flushes;

	if (bt_tc_exit_decode(&xl->tc, xl->area, &x))
		/* Translated code never leaves the area like this: the guest did. */
		return xr_internal(vcpu, HYVM_INTERNAL_VMM_REGION,
				   xl->base + BT_XLAT_AREA_OFF, e->rip);
	xl->stat.ccf_exits[x.reason]++;
	to_guest(xl, e, 0);
	e->rip = x.rip;
	switch (x.reason) {
	case BT_EXIT_TRANSLATE:
		flushes = xl->tc.stats.flushes;
		tu = hyvm_bt_xlat_get(xl, x.rip);
		if (tu && flushes == xl->tc.stats.flushes)
			bt_tc_chain(&xl->tc, x.id, tu);
		return 2;
	case BT_EXIT_IND_MISS:
		if ((u64)((s64)(x.rip << 16) >> 16) != x.rip) {
			/* The branch raises #GP: the interpreter runs it. */
			e->rip = x.src_rip;
			e->gpr[X86_RSP] += x.rsp_undo;
			return 1;
		}
		tu = hyvm_bt_xlat_get(xl, x.rip);
		if (tu)
			bt_tc_ht_insert(&xl->tc, tu);
		return 2;
	case BT_EXIT_UD:
		return xr_deliver(bt, X86_EXC_UD, false, 0, 0);
	case BT_EXIT_IRQ_WINDOW:
		return 2;
	default:	/* BT_EXIT_CALLOUT */
		hyvm_bt_xlat_callout(xl, x.rip);
		hyvm_bt_linger(bt);
		return 1;
	}
}

/* A #PF inside a CCF, with the guest state at its instruction in @e. */
static int xr_page_fault(struct hyvm_vcpu *vcpu, struct hyvm_bt_vcpu *bt,
			 struct bt_xlat *xl, struct x86_emu *e,
			 const struct bt_world_exit *wx, struct bt_tu *tu)
{
	struct hyvm_shadow_fault f;

	/* A supervisor access of the guest's, made at CPL3. */
	switch (hyvm_shost_page_fault(vcpu, &bt->sh, 0,
				      !!(e->rflags & X86_EFLAGS_AC), wx->cr2,
				      wx->error & ~HYVM_ACC_USER, &f)) {
	case HYVM_SHADOW_RETRY:
		xl->stat.pf_hidden++;
		xl->in_tc = true;	/* nothing of it ran: run it again */
		return 2;
	case HYVM_SHADOW_GUEST_PF:
		xl->stat.pf_guest++;
		return xr_deliver(bt, X86_EXC_PF, true, f.error_code, f.cr2);
	case HYVM_SHADOW_GUEST_GP:
		xl->stat.pf_guest++;
		return xr_deliver(bt, X86_EXC_GP, true, 0, 0);
	case HYVM_SHADOW_EMULATE:
		if (f.traced) {
			hyvm_bt_xlat_trace_fault(xl, e->rip, tu);
			hyvm_bt_linger(bt);
		}
		fallthrough;
	case HYVM_SHADOW_MMIO:
		xl->stat.pf_emulate++;
		return 1;
	case HYVM_SHADOW_CODE_WRITE:
		/*
		 * A store to translated code (or to a table on the way to
		 * it): the translations go, and the interpreter makes the
		 * store, so that what follows it is translated afresh.
		 */
		hyvm_bt_xlat_code_written(bt->xv, vcpu->vm,
					  f.gpa >> PAGE_SHIFT, true);
		return 1;
	case HYVM_SHADOW_FIXED:
		return xr_internal(vcpu, HYVM_INTERNAL_VMM_REGION, wx->cr2,
				   e->rip);
	default:
		return xr_internal(vcpu, HYVM_INTERNAL_MEMORY, e->rip, wx->cr2);
	}
}

/**
 * hyvm_bt_run_tc - one entry into translated guest kernel code
 * @vcpu: the vCPU
 * @bt: its bt state; the guest state is in bt->emu (loaded), or in
 *	@bt->xl->regs when a CCF is suspended
 *
 * Return: 2 to go on in the guest world, 1 for the interpreter (one
 * instruction at least), 0 for an exit to userspace (run page set).
 */
int hyvm_bt_run_tc(struct hyvm_vcpu *vcpu, struct hyvm_bt_vcpu *bt)
{
	struct bt_xlat_vm *xv = bt->xv;
	struct bt_xlat *xl = bt->xl;
	struct x86_emu *e = &bt->emu.emu;
	struct hyvm_paging_mode m = {
		.cr0 = e->cr0, .cr3 = e->cr3, .cr4 = e->cr4, .efer = e->efer,
		.ac = !!(e->rflags & X86_EFLAGS_AC),
		.maxphyaddr = bt->emu.maxphyaddr,
	};
	struct bt_world_exit wx;
	struct bt_precise p;
	u64 root;
	int ret;

	mutex_lock(&xv->lock);
	ret = xr_prepare(bt, xl, e);
	mutex_unlock(&xv->lock);
	if (ret < 0)
		return xr_internal(vcpu, HYVM_INTERNAL_MEMORY, e->rip, -ret);
	if (ret)
		return 1;
	ret = hyvm_shost_root_view(vcpu, &bt->sh, &m, HYVM_VIEW_KERNEL, &root);
	if (ret) {
		xl->in_tc = false;
		return xr_internal(vcpu, HYVM_INTERNAL_MEMORY, e->rip, -ret);
	}

	preempt_disable();
	if (test_thread_flag(TIF_NEED_FPU_LOAD))
		switch_fpu_return();
	hyvm_bt_world_enter_tc(vcpu, &bt->world, e, root, &xl->regs,
			       bt_xlat_exit_stub(xl), &wx);
	preempt_enable();
	xl->stat.entries++;
	xl->in_tc = false;
	trace_hyvm_bt_world_exit(vcpu->vm->id, vcpu->id, true, wx.reason,
				 wx.vector, xl->regs.rip);

	mutex_lock(&xv->lock);
	switch (wx.reason) {
	case BT_WX_CCF:
		ret = xr_ccf_exit(vcpu, bt, xl, e);
		break;
	case BT_WX_INTERRUPT:
		xl->stat.interrupts++;
		if (to_guest_at(xl, e, &p) && p.at_start) {
			ret = 2;
			break;
		}
		/* In the middle of an instruction (or the shared lookup). */
		xl->stat.resumes++;
		xl->in_tc = true;
		ret = 2;
		break;
	case BT_WX_EXCEPTION:
		if (!to_guest_at(xl, e, &p)) {
			ret = xr_internal(vcpu, HYVM_INTERNAL_MONITOR, wx.vector,
					  xl->regs.rip);
			break;
		}
		xl->stat.faults[wx.vector & 31]++;
		if (wx.vector == X86_EXC_PF) {
			ret = xr_page_fault(vcpu, bt, xl, e, &wx, p.tu);
			break;
		}
		/*
		 * Anything else: the interpreter runs the instruction again
		 * with the guest's own state and raises what the guest sees.
		 */
		ret = 1;
		break;
	default:
		/* A fault in the monitor, or a SYSCALL no CCF contains. */
		bt->wstat.exit_monitor_fault++;
		ret = xr_internal(vcpu, HYVM_INTERNAL_MONITOR, wx.vector,
				  wx.reason == BT_WX_MONITOR_FAULT ? wx.cr2 :
				  xl->regs.rip);
		break;
	}
	mutex_unlock(&xv->lock);
	if (ret == 3)
		ret = hyvm_interp_deliver(vcpu, &bt->emu, &bt->stat,
					  xl->pend.vector, xl->pend.has_error,
					  xl->pend.error, xl->pend.cr2) ? 0 : 2;
	return ret;
}
