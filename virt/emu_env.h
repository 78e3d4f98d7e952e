/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The instruction emulator's environment in the kernel: a vCPU's state as
 * struct x86_emu, guest memory through paging and the memory slots, and
 * port I/O and MMIO that exit to userspace through struct hyvm_run.
 */
#ifndef HYVM_EMU_ENV_H
#define HYVM_EMU_ENV_H

#include "hyvm.h"
#include "emulate/emulate.h"

struct hyvm_emu_mmio_done {
	u64 gpa;
	u8 len;
	u8 data[8];
};

/**
 * struct hyvm_emu_ctx - one vCPU's emulation context
 * @emu: the emulator's view of the vCPU
 * @vcpu: the vCPU
 * @exit_after: an OUT or MMIO write was handed to userspace; leave once
 *	the instruction completes
 * @io_wait: an IN waits for userspace: run->io describes it
 * @mmio_wait: an MMIO read waits for userspace: run->mmio describes it
 * @done: MMIO reads userspace completed, replayed while the instruction
 *	that needed them is retried
 * @io_ready: the IN data is in the run page, for the retried IN
 * @mem_error: guest memory (its user mapping) was gone
 * @maxphyaddr: physical-address width the guest is told (CPUID)
 * @msr: MSRs the emulator-based engines keep (see emu_env.c)
 * @dr: debug registers 0-3, 6 and 7 as the guest sees them through MOV DR
 *	in the emulator (breakpoints are not armed: DR7 only keeps its value)
 */
struct hyvm_emu_ctx {
	struct x86_emu emu;
	struct hyvm_vcpu *vcpu;
	bool exit_after, io_wait, io_ready, mmio_wait, mem_error;
	u8 maxphyaddr;
	u8 ndone;
	struct hyvm_emu_mmio_done done[2];
	struct {
		u64 star, lstar, cstar, fmask, kernel_gs_base, tsc_aux, pat;
		u64 sysenter_cs, sysenter_esp, sysenter_eip;
		s64 tsc_offset;
	} msr;
	u64 dr[8];
};

void hyvm_emu_ctx_init(struct hyvm_emu_ctx *ctx, struct hyvm_vcpu *vcpu);
void hyvm_emu_load(struct hyvm_emu_ctx *ctx);
void hyvm_emu_store(struct hyvm_emu_ctx *ctx);
void hyvm_emu_resume(struct hyvm_emu_ctx *ctx);
void hyvm_emu_insn_done(struct hyvm_emu_ctx *ctx);

#endif
