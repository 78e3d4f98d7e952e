// SPDX-License-Identifier: GPL-2.0
/*
 * Guest TLB flushes across the vCPUs of a VM.
 *
 * When hyvm takes a mapping away from a guest (a shadow entry zapped, a
 * nested entry cleared for a deleted slot), a CPU running that guest may
 * still hold it in its TLB or paging-structure caches.  A VM-wide flush
 * generation says so: each vCPU flushes its guest TLB on the next entry
 * when the generation moved since its last one, and whoever frees the
 * memory behind the old mapping first waits until no vCPU is still in the
 * guest under an older generation (hyvm_tlb_flush_all()).  A vCPU leaves
 * the guest on any host interrupt, so an IPI is all it takes.
 */
#include <linux/smp.h>
#include "hyvm.h"

/**
 * hyvm_tlb_enter - a vCPU is about to enter the guest
 * @vcpu: the vCPU; interrupts are off
 *
 * Return: true when the entry must flush the vCPU's guest TLB.
 */
bool hyvm_tlb_enter(struct hyvm_vcpu *vcpu)
{
	u64 gen;

	WRITE_ONCE(vcpu->guest_cpu, smp_processor_id());
	/* Pairs with the barrier of the increment in hyvm_tlb_flush_all(). */
	smp_mb();
	gen = atomic64_read(&vcpu->vm->tlb_gen);
	if (gen == vcpu->tlb_gen_seen)
		return false;
	WRITE_ONCE(vcpu->tlb_gen_seen, gen);
	return true;
}

/**
 * hyvm_tlb_exit - the vCPU is back from the guest
 * @vcpu: the vCPU
 */
void hyvm_tlb_exit(struct hyvm_vcpu *vcpu)
{
	/* Ordered after the guest run, for hyvm_tlb_flush_all() to see. */
	smp_store_release(&vcpu->guest_cpu, -1);
}

static void hyvm_tlb_kicked(void *unused)
{
}

/**
 * hyvm_tlb_flush_all - make every vCPU drop the VM's guest TLB entries
 * @vm: the VM
 *
 * On return no vCPU runs the guest with a TLB from before the call: the
 * memory behind mappings removed before the call may be reused.  Callers
 * that are vCPU threads are out of the guest, and flush on their next
 * entry.  Waits for the IPIs it sends: not with interrupts off.
 */
void hyvm_tlb_flush_all(struct hyvm_vm *vm)
{
	u64 gen = atomic64_inc_return(&vm->tlb_gen);
	unsigned int i;

	for (i = 0; i < HYVM_MAX_VCPUS; i++) {
		/* Pairs with the release that published the vCPU. */
		struct hyvm_vcpu *v = smp_load_acquire(&vm->vcpus[i]);
		int cpu;

		if (!v)
			continue;
		cpu = READ_ONCE(v->guest_cpu);
		if (cpu < 0 || READ_ONCE(v->tlb_gen_seen) >= gen)
			continue;
		/*
		 * The IPI is taken in host context, so the vCPU has left the
		 * guest by the time it is handled; it re-enters, if at all,
		 * with the new generation.
		 */
		smp_call_function_single(cpu, hyvm_tlb_kicked, NULL, 1);
	}
}
