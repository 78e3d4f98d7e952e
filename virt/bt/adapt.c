// SPDX-License-Identifier: GPL-2.0
/*
 * Adaptive translation (the paper's "adaptive BT").  A translated
 * instruction that writes a traced frame (a guest page table) takes a #PF,
 * a shadow walk and the interpreter each time.  After bt_adapt_threshold
 * such faults its TU is invalidated and translated again with the
 * instruction as a callout, which reaches the interpreter without the
 * fault.  When an adapted instruction's callouts write no traced memory
 * bt_adapt_threshold times in a row, it is copied again.
 */
#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/moduleparam.h>
#include "xlat.h"
#include "../shadow_host.h"
#include "../hyvm_trace.h"

static unsigned int bt_adapt_threshold = 4;
module_param(bt_adapt_threshold, uint, 0644);
MODULE_PARM_DESC(bt_adapt_threshold,
		 "bt: trace faults (and innocent callouts) before an instruction's translation adapts; 0: never");

static struct bt_adapt *adapt_slot(struct bt_xlat *xl, u64 rip)
{
	return &xl->adapt[hash_64(rip, ilog2(BT_ADAPT_SLOTS))];
}

/* The translator's question: must @rip be a callout? */
bool hyvm_bt_xlat_callout_at(void *opaque, u64 rip)
{
	struct bt_xlat *xl = opaque;
	const struct bt_adapt *a = adapt_slot(xl, rip);

	return a->rip == rip && a->adapted;
}

/**
 * hyvm_bt_xlat_trace_fault - translated code wrote traced memory
 * @xl: the vCPU's translator, under the xlat lock
 * @rip: the guest instruction
 * @tu: the TU it ran in
 */
void hyvm_bt_xlat_trace_fault(struct bt_xlat *xl, u64 rip, struct bt_tu *tu)
{
	struct bt_adapt *a = adapt_slot(xl, rip);
	unsigned int limit = READ_ONCE(bt_adapt_threshold);

	xl->stat.trace_faults++;
	if (!limit)
		return;
	if (a->rip != rip) {
		if (a->adapted)
			return;		/* the slot is taken */
		memset(a, 0, sizeof(*a));
		a->rip = rip;
	}
	a->innocent = 0;
	if (!a->adapted && ++a->faults < limit)
		return;
	if (!a->adapted) {
		a->adapted = true;
		xl->stat.adaptations++;
		trace_hyvm_bt_adapt(xl->vcpu->vm->id, xl->vcpu->id, rip,
				    a->faults, true);
	}
	/* This TU copied it: the next one makes it a callout. */
	bt_tc_invalidate_tu(&xl->tc, tu);
}

/**
 * hyvm_bt_xlat_callout - a CCF left for a callout at @rip
 * @xl: the vCPU's translator, under the xlat lock
 * @rip: the instruction the interpreter runs next
 */
void hyvm_bt_xlat_callout(struct bt_xlat *xl, u64 rip)
{
	struct bt_adapt *a = adapt_slot(xl, rip);

	xl->callout_watch = a->rip == rip && a->adapted ? a : NULL;
	xl->callout_gen = hyvm_shost_pt_changes(xl->vcpu->vm);
}

/**
 * hyvm_bt_xlat_judge - did the last adapted callout write traced memory?
 * @xl: the vCPU's translator, under the xlat lock, before the next entry
 */
void hyvm_bt_xlat_judge(struct bt_xlat *xl)
{
	struct bt_adapt *a = xl->callout_watch;

	if (!a)
		return;
	xl->callout_watch = NULL;
	if (hyvm_shost_pt_changes(xl->vcpu->vm) != xl->callout_gen) {
		a->innocent = 0;
		return;
	}
	if (++a->innocent < READ_ONCE(bt_adapt_threshold))
		return;
	xl->stat.unadaptations++;
	trace_hyvm_bt_adapt(xl->vcpu->vm->id, xl->vcpu->id, a->rip, a->faults,
			    false);
	bt_tc_invalidate_page(&xl->tc, a->rip);
	memset(a, 0, sizeof(*a));
}
