// SPDX-License-Identifier: GPL-2.0
/*
 * Exits that go to userspace through struct hyvm_run (port I/O, HLT,
 * shutdown, internal errors), and the per-exit counters and tracepoint.
 * Shared by the hardware engines.
 */
#include <linux/kernel.h>
#include <linux/string.h>
#include "exit.h"
#include "hyvm_trace.h"

const char *const hyvm_hw_exit_names[HYVM_HWX_MAX] = {
	[HYVM_HWX_INTR]		= "intr",
	[HYVM_HWX_CPUID]	= "cpuid",
	[HYVM_HWX_HLT]		= "hlt",
	[HYVM_HWX_IO]		= "io",
	[HYVM_HWX_MSR]		= "msr",
	[HYVM_HWX_NPF]		= "npf",
	[HYVM_HWX_SHUTDOWN]	= "shutdown",
	[HYVM_HWX_EXCEPTION]	= "exception",
	[HYVM_HWX_UD]		= "ud",
	[HYVM_HWX_CACHE]	= "cache",
	[HYVM_HWX_FAIL]		= "fail",
	[HYVM_HWX_OTHER]	= "other",
};

/**
 * hyvm_exit_io - hand one IN or OUT to userspace
 * @vcpu: the vCPU
 * @in: IN (userspace stores the data) or OUT (@val is the data)
 * @port: the port
 * @size: 1, 2 or 4
 * @val: for OUT, the low @size bytes of EAX
 *
 * The data lives in the run page at HYVM_RUN_IO_DATA_OFFSET.  For IN the
 * engine completes the instruction on the next HYVM_RUN with
 * hyvm_exit_io_in_done().
 */
void hyvm_exit_io(struct hyvm_vcpu *vcpu, bool in, u16 port, u8 size, u32 val)
{
	struct hyvm_run *run = vcpu->run;
	u8 *data = (u8 *)run + HYVM_RUN_IO_DATA_OFFSET;

	run->exit_reason = HYVM_EXIT_IO;
	run->io.direction = in ? HYVM_IO_IN : HYVM_IO_OUT;
	run->io.size = size;
	run->io.port = port;
	run->io.count = 1;
	run->io.data_offset = HYVM_RUN_IO_DATA_OFFSET;
	memset(data, 0, 4);
	if (!in)
		memcpy(data, &val, size);
}

/**
 * hyvm_exit_io_in_done - merge the data of a completed IN into RAX
 * @vcpu: the vCPU
 * @size: the IN's size, 1, 2 or 4
 * @rax: the guest's RAX before the IN
 *
 * Return: RAX after the IN: 8- and 16-bit INs keep the rest of RAX, a
 * 32-bit IN zero-extends as every 32-bit register write does.
 */
u64 hyvm_exit_io_in_done(struct hyvm_vcpu *vcpu, u8 size, u64 rax)
{
	const u8 *data = (const u8 *)vcpu->run + HYVM_RUN_IO_DATA_OFFSET;
	u32 val = 0;

	memcpy(&val, data, size);
	switch (size) {
	case 1:
		return (rax & ~0xffULL) | (u8)val;
	case 2:
		return (rax & ~0xffffULL) | (u16)val;
	default:
		return val;
	}
}

void hyvm_exit_hlt(struct hyvm_vcpu *vcpu)
{
	vcpu->run->exit_reason = HYVM_EXIT_HLT;
}

void hyvm_exit_shutdown(struct hyvm_vcpu *vcpu, u64 rip)
{
	vcpu->run->exit_reason = HYVM_EXIT_SHUTDOWN;
	vcpu->run->shutdown.rip = rip;
}

void hyvm_exit_internal(struct hyvm_vcpu *vcpu, u32 suberror, u64 d0, u64 d1)
{
	struct hyvm_run *run = vcpu->run;

	run->exit_reason = HYVM_EXIT_INTERNAL;
	memset(&run->internal, 0, sizeof(run->internal));
	run->internal.suberror = suberror;
	run->internal.ndata = 2;
	run->internal.data[0] = d0;
	run->internal.data[1] = d1;
}

/**
 * hyvm_exit_record - count and trace one hardware exit
 * @vcpu: the vCPU
 * @kind: what it was, engine-neutral
 * @code: the engine's exit code
 * @rip: guest RIP at the exit
 * @info1: engine exit information
 * @info2: more of it
 */
void hyvm_exit_record(struct hyvm_vcpu *vcpu, enum hyvm_hw_exit kind,
		      u32 code, u64 rip, u64 info1, u64 info2)
{
	vcpu->stat.hw_exits[kind]++;
	trace_hyvm_exit(vcpu->vm->id, vcpu->id, kind, code, rip, info1, info2);
}
