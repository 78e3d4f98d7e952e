// SPDX-License-Identifier: GPL-2.0
/*
 * The interpreter: guest code executed one instruction at a time by
 * virt/emulate.
 *
 * This is the fallback the design keeps for real mode, rare instructions
 * and single-stepping.  bt runs guest kernel code with it until the
 * translator runs in bt's guest world (guest user code runs there
 * directly), and finishes there what the guest world hands back; svm
 * without NPT runs with it whatever the hardware cannot run on long-mode
 * shadow tables (real mode, protected mode, the way into long mode).
 * Slow, but exact for what the emulator implements and unable to harm the
 * host, since the code it runs never executes natively.
 */
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include "exit.h"
#include "interp.h"

/* How often the loop looks for signals and the scheduler. */
#define INTERP_BATCH	1024

static int interp_exit(struct hyvm_vcpu *vcpu, u32 reason)
{
	vcpu->run->exit_reason = reason;
	return 0;
}

static int interp_internal(struct hyvm_vcpu *vcpu, u32 suberror, u64 d0, u64 d1)
{
	struct hyvm_run *run = vcpu->run;

	run->exit_reason = HYVM_EXIT_INTERNAL;
	run->internal.suberror = suberror;
	run->internal.ndata = 2;
	run->internal.data[0] = d0;
	run->internal.data[1] = d1;
	return 0;
}

/*
 * Deliver e->exc to the guest.  A fault while delivering is handled as the
 * CPU does: serially for benign pairs, as #DF for contributory ones and
 * page faults, and a fault while delivering #DF shuts the VM down.
 *
 * Return: 0 to go on, 1 when the vCPU must exit (run->exit_reason set).
 */
static int interp_exception(struct hyvm_vcpu *vcpu, struct hyvm_emu_ctx *ctx)
{
	struct x86_emu *e = &ctx->emu;
	u8 first = e->exc.vector;
	unsigned int tries;

	for (tries = 0; tries < 3; tries++) {
		u8 vector = e->exc.vector;
		u32 err = e->exc.has_error ? e->exc.error : 0;
		int ret;

		if (vector == X86_EXC_PF)
			e->cr2 = e->exc.cr2;
		ret = x86_emu_deliver(e, vector, e->exc.has_error, err);
		if (ret == X86_EMU_OK)
			return 0;
		if (ret != X86_EMU_EXCEPTION) {
			interp_internal(vcpu, HYVM_INTERNAL_DELIVERY, vector, err);
			return 1;
		}
		/* e->exc now holds the fault raised by the delivery. */
		if (vector == X86_EXC_DF)
			break;
		if ((hyvm_exc_contributory(first) &&
		     hyvm_exc_contributory(e->exc.vector)) ||
		    (first == X86_EXC_PF &&
		     (e->exc.vector == X86_EXC_PF ||
		      hyvm_exc_contributory(e->exc.vector)))) {
			e->exc.vector = X86_EXC_DF;
			e->exc.has_error = true;
			e->exc.error = 0;
		}
		first = e->exc.vector;
	}
	vcpu->run->shutdown.rip = e->rip;
	interp_exit(vcpu, HYVM_EXIT_SHUTDOWN);
	return 1;
}

/**
 * hyvm_interp_deliver - deliver an exception to the guest, as the
 *	interpreter would
 * @vcpu: the vCPU
 * @ctx: its emulation context, loaded (hyvm_emu_load())
 * @st: counters to update
 * @vector: the exception
 * @has_error: whether it pushes an error code
 * @error: the error code
 * @cr2: the faulting address, for #PF
 *
 * For engines that saw the exception some other way (bt's guest world).
 *
 * Return: 0 to go on, 1 when the vCPU must exit (run->exit_reason set).
 */
int hyvm_interp_deliver(struct hyvm_vcpu *vcpu, struct hyvm_emu_ctx *ctx,
			struct hyvm_interp_stat *st, u8 vector, bool has_error,
			u32 error, u64 cr2)
{
	struct x86_emu *e = &ctx->emu;

	e->exc.vector = vector;
	e->exc.has_error = has_error;
	e->exc.error = error;
	e->exc.cr2 = cr2;
	st->exceptions++;
	return interp_exception(vcpu, ctx);
}

/**
 * hyvm_interp_run - run a vCPU in the interpreter
 * @vcpu: the vCPU; its registers are in vcpu->regs/sregs
 * @ctx: its emulation context
 * @st: counters to update
 * @leave: when not NULL, checked after each instruction: true hands the
 *	vCPU back to the caller's engine
 *
 * Return: 0 with run->exit_reason set, 1 when @leave said so (no exit
 * reason set), or -EINTR for a signal.
 */
int hyvm_interp_run(struct hyvm_vcpu *vcpu, struct hyvm_emu_ctx *ctx,
		    struct hyvm_interp_stat *st,
		    bool (*leave)(const struct x86_emu *e))
{
	struct x86_emu *e = &ctx->emu;
	struct hyvm_run *run = vcpu->run;
	unsigned long n;
	int ret = 0;

	hyvm_emu_load(ctx);
	hyvm_emu_resume(ctx);
	for (n = 1;; n++) {
		enum x86_emu_result res;

		if (!(n % INTERP_BATCH)) {
			if (signal_pending(current)) {
				run->exit_reason = HYVM_EXIT_INTR;
				ret = -EINTR;
				break;
			}
			cond_resched();
		}
		res = x86_emulate(e);
		st->insns++;
		if (res == X86_EMU_OK) {
			hyvm_emu_insn_done(ctx);
			if (ctx->exit_after)
				break;		/* OUT or MMIO write for userspace */
			if (leave && leave(e)) {
				ret = 1;
				break;
			}
			continue;
		}
		if (res == X86_EMU_HALT) {
			/* No interrupt source exists yet to wake a halted vCPU. */
			hyvm_emu_insn_done(ctx);
			interp_exit(vcpu, HYVM_EXIT_HLT);
			break;
		}
		if (res == X86_EMU_EXIT) {
			if (ctx->mem_error) {
				interp_internal(vcpu, HYVM_INTERNAL_MEMORY, e->rip, 0);
				ctx->mem_error = false;
			}
			break;		/* IN or MMIO read waits for userspace */
		}
		if (res == X86_EMU_EXCEPTION) {
			st->exceptions++;
			if (interp_exception(vcpu, ctx) > 0)
				break;
			if (leave && leave(e)) {
				ret = 1;
				break;
			}
			continue;
		}
		/* X86_EMU_UNIMPLEMENTED: say which instruction, never guess. */
		{
			u64 bytes = 0;

			e->ops->read(e, e->seg[X86_SEG_CS].base + e->rip, &bytes,
				     sizeof(bytes), true);
			interp_internal(vcpu, HYVM_INTERNAL_EMULATION,
					e->seg[X86_SEG_CS].base + e->rip, bytes);
			break;
		}
	}
	if (!ret && run->exit_reason == HYVM_EXIT_IO)
		st->io_exits++;
	else if (!ret && run->exit_reason == HYVM_EXIT_MMIO)
		st->mmio_exits++;
	hyvm_emu_store(ctx);
	return ret;
}
