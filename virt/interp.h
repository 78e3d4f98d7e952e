/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The interpreter (interp.c): guest code run one instruction at a time by
 * virt/emulate, for bt and for what the hardware engines cannot run.
 */
#ifndef HYVM_INTERP_H
#define HYVM_INTERP_H

#include "hyvm.h"
#include "emu_env.h"

/* Counters of an interpreter run, kept by the engine that runs it. */
struct hyvm_interp_stat {
	u64 insns;		/* instructions interpreted */
	u64 exceptions;		/* exceptions delivered to the guest */
	u64 io_exits;		/* port I/O handed to userspace */
	u64 mmio_exits;		/* MMIO handed to userspace */
};

int hyvm_interp_deliver(struct hyvm_vcpu *vcpu, struct hyvm_emu_ctx *ctx,
			struct hyvm_interp_stat *st, u8 vector, bool has_error,
			u32 error, u64 cr2);
int hyvm_interp_run(struct hyvm_vcpu *vcpu, struct hyvm_emu_ctx *ctx,
		    struct hyvm_interp_stat *st,
		    bool (*leave)(const struct x86_emu *e));

#endif
