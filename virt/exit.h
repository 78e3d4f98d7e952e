/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Exit handlers shared by the hardware engines (svm now, vmx later): what a
 * guest sees for CPUID and MSRs, port I/O handed to userspace through
 * struct hyvm_run, HLT, shutdown and internal errors, and the per-exit
 * counters and tracepoint.  The engines decode their own exit formats and
 * call these with plain values.
 */
#ifndef HYVM_EXIT_H
#define HYVM_EXIT_H

#include <linux/types.h>
#include "hyvm.h"

/*
 * A contributory exception (#DE, #TS, #NP, #SS, #GP): one raised while
 * delivering another contributory one, or a page fault, is a double fault.
 */
static inline bool hyvm_exc_contributory(u8 vector)
{
	return vector == 0 || (vector >= 10 && vector <= 13);
}

/* Per-vCPU MSR state that the shared MSR handlers keep. */
struct hyvm_msr_state {
	u64 pat;
	u64 tsc_aux;
};

/* cpuid.c */
void hyvm_cpuid(struct hyvm_vcpu *vcpu, u32 leaf, u32 subleaf, u32 out[4]);

/* msr.c */
void hyvm_msr_reset(struct hyvm_msr_state *s);
int hyvm_msr_get(struct hyvm_vcpu *vcpu, struct hyvm_msr_state *s, u32 msr,
		 u64 *val);
int hyvm_msr_set(struct hyvm_vcpu *vcpu, struct hyvm_msr_state *s, u32 msr,
		 u64 val);

/* exit_io.c */
void hyvm_exit_io(struct hyvm_vcpu *vcpu, bool in, u16 port, u8 size, u32 val);
u64 hyvm_exit_io_in_done(struct hyvm_vcpu *vcpu, u8 size, u64 rax);
void hyvm_exit_hlt(struct hyvm_vcpu *vcpu);
void hyvm_exit_shutdown(struct hyvm_vcpu *vcpu, u64 rip);
void hyvm_exit_internal(struct hyvm_vcpu *vcpu, u32 suberror, u64 d0, u64 d1);
void hyvm_exit_record(struct hyvm_vcpu *vcpu, enum hyvm_hw_exit kind,
		      u32 code, u64 rip, u64 info1, u64 info2);

#endif /* HYVM_EXIT_H */
