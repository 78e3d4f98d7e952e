// SPDX-License-Identifier: GPL-2.0
/*
 * Running guests with KVM, through /dev/kvm: the reference that every
 * result of hyvm's engines is compared with, in the same emulated host and
 * the same run.  The VM is deliberately as plain as hyvm's: no in-kernel
 * interrupt controllers or timers, one memory slot, the devices of
 * devices.c, and the CPUID that KVM supports on this host.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/kvm.h>
#include "vmtool.h"

#define KVM_DEV		"/dev/kvm"
/*
 * The three pages KVM needs for real mode on VT-x without unrestricted
 * guest; unused on AMD-V.  Just under 4G, where firmware would be.
 */
#define KVM_TSS_ADDR	0xfffbd000UL
#define CPUID_MAX_ENTRIES 256

struct kvm_backend {
	int sys, vm, vcpu;
	struct kvm_run *run;
	size_t run_size;
};

/*
 * Whether KVM is usable here; on failure @why says why (for caps and for
 * the error message of run).
 */
int kvm_probe(char *why, size_t len)
{
	int fd = open(KVM_DEV, O_RDWR | O_CLOEXEC), v;

	if (fd < 0) {
		snprintf(why, len, "cannot open %s: %s", KVM_DEV, strerror(errno));
		return -1;
	}
	v = ioctl(fd, KVM_GET_API_VERSION, 0);
	close(fd);
	if (v != KVM_API_VERSION) {
		snprintf(why, len, "%s speaks API %d, vmtool wants %d", KVM_DEV,
			 v, KVM_API_VERSION);
		return -1;
	}
	snprintf(why, len, "%s, API %d", KVM_DEV, v);
	return 0;
}

/* Give the guest the CPUID KVM supports, as a plain launcher would. */
static int kvm_set_cpuid(struct kvm_backend *b)
{
	struct kvm_cpuid2 *c;
	size_t sz = sizeof(*c) + CPUID_MAX_ENTRIES * sizeof(c->entries[0]);
	int ret = -1;

	c = calloc(1, sz);
	if (!c) {
		err_msg("out of memory");
		return -1;
	}
	c->nent = CPUID_MAX_ENTRIES;
	if (ioctl(b->sys, KVM_GET_SUPPORTED_CPUID, c)) {
		err_msg("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		goto out;
	}
	if (ioctl(b->vcpu, KVM_SET_CPUID2, c)) {
		err_msg("KVM_SET_CPUID2: %s", strerror(errno));
		goto out;
	}
	ret = 0;
out:
	free(c);
	return ret;
}

static int kvm_create(struct vm *vm, int engine)
{
	struct kvm_backend *b = calloc(1, sizeof(*b));
	struct kvm_userspace_memory_region region = { 0 };
	char why[128];
	int size;

	if (!b) {
		err_msg("out of memory");
		return -1;
	}
	b->sys = b->vm = b->vcpu = -1;
	vm->priv = b;
	vm->engine = "kvm";
	if (kvm_probe(why, sizeof(why))) {
		err_msg("the kvm engine is unusable: %s", why);
		return -1;
	}
	b->sys = open(KVM_DEV, O_RDWR | O_CLOEXEC);
	if (b->sys < 0) {
		err_msg("cannot open %s: %s", KVM_DEV, strerror(errno));
		return -1;
	}
	b->vm = ioctl(b->sys, KVM_CREATE_VM, 0);
	if (b->vm < 0) {
		err_msg("KVM_CREATE_VM: %s", strerror(errno));
		return -1;
	}
	/* Only VT-x uses it (real mode without unrestricted guest). */
	if (ioctl(b->vm, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) && errno != ENOTTY &&
	    errno != EINVAL) {
		err_msg("KVM_SET_TSS_ADDR: %s", strerror(errno));
		return -1;
	}
	region.memory_size = vm->mem_size;
	region.userspace_addr = (uintptr_t)vm->mem;
	if (ioctl(b->vm, KVM_SET_USER_MEMORY_REGION, &region)) {
		err_msg("KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
		return -1;
	}
	b->vcpu = ioctl(b->vm, KVM_CREATE_VCPU, 0);
	if (b->vcpu < 0) {
		err_msg("KVM_CREATE_VCPU: %s", strerror(errno));
		return -1;
	}
	size = ioctl(b->sys, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < (int)sizeof(struct kvm_run)) {
		err_msg("KVM_GET_VCPU_MMAP_SIZE: %s", size < 0 ? strerror(errno) : "too small");
		return -1;
	}
	b->run_size = size;
	b->run = mmap(NULL, b->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      b->vcpu, 0);
	if (b->run == MAP_FAILED) {
		err_msg("cannot map the vCPU run area: %s", strerror(errno));
		b->run = NULL;
		return -1;
	}
	return kvm_set_cpuid(b);
}

static void seg_from_kvm(struct hyvm_segment *h, const struct kvm_segment *k)
{
	memset(h, 0, sizeof(*h));
	h->base = k->base;
	h->limit = k->limit;
	h->selector = k->selector;
	h->type = k->type;
	h->present = k->present;
	h->dpl = k->dpl;
	h->db = k->db;
	h->s = k->s;
	h->l = k->l;
	h->g = k->g;
	h->avl = k->avl;
	h->unusable = k->unusable;
}

static void seg_to_kvm(struct kvm_segment *k, const struct hyvm_segment *h)
{
	memset(k, 0, sizeof(*k));
	k->base = h->base;
	k->limit = h->limit;
	k->selector = h->selector;
	k->type = h->type;
	k->present = h->present;
	k->dpl = h->dpl;
	k->db = h->db;
	k->s = h->s;
	k->l = h->l;
	k->g = h->g;
	k->avl = h->avl;
	k->unusable = h->unusable;
}

static int kvm_get_state(struct vm *vm, struct cpu_state *s)
{
	struct kvm_backend *b = vm->priv;
	struct kvm_sregs ks;
	struct kvm_regs kr;

	if (ioctl(b->vcpu, KVM_GET_SREGS, &ks) || ioctl(b->vcpu, KVM_GET_REGS, &kr)) {
		err_msg("reading the vCPU's registers: %s", strerror(errno));
		return -1;
	}
	memset(s, 0, sizeof(*s));
	seg_from_kvm(&s->sregs.cs, &ks.cs);
	seg_from_kvm(&s->sregs.ds, &ks.ds);
	seg_from_kvm(&s->sregs.es, &ks.es);
	seg_from_kvm(&s->sregs.fs, &ks.fs);
	seg_from_kvm(&s->sregs.gs, &ks.gs);
	seg_from_kvm(&s->sregs.ss, &ks.ss);
	seg_from_kvm(&s->sregs.tr, &ks.tr);
	seg_from_kvm(&s->sregs.ldt, &ks.ldt);
	s->sregs.gdt.base = ks.gdt.base;
	s->sregs.gdt.limit = ks.gdt.limit;
	s->sregs.idt.base = ks.idt.base;
	s->sregs.idt.limit = ks.idt.limit;
	s->sregs.cr0 = ks.cr0;
	s->sregs.cr2 = ks.cr2;
	s->sregs.cr3 = ks.cr3;
	s->sregs.cr4 = ks.cr4;
	s->sregs.cr8 = ks.cr8;
	s->sregs.efer = ks.efer;
	s->sregs.apic_base = ks.apic_base;
	/* Same layout by design: sixteen GPRs, rip, rflags. */
	_Static_assert(sizeof(kr) == sizeof(s->regs), "register layouts differ");
	memcpy(&s->regs, &kr, sizeof(kr));
	return 0;
}

static int kvm_set_state(struct vm *vm, const struct cpu_state *s)
{
	struct kvm_backend *b = vm->priv;
	struct kvm_sregs ks;
	struct kvm_regs kr;

	/* Start from KVM's own so that fields hyvm has no name for stay sane. */
	if (ioctl(b->vcpu, KVM_GET_SREGS, &ks)) {
		err_msg("KVM_GET_SREGS: %s", strerror(errno));
		return -1;
	}
	seg_to_kvm(&ks.cs, &s->sregs.cs);
	seg_to_kvm(&ks.ds, &s->sregs.ds);
	seg_to_kvm(&ks.es, &s->sregs.es);
	seg_to_kvm(&ks.fs, &s->sregs.fs);
	seg_to_kvm(&ks.gs, &s->sregs.gs);
	seg_to_kvm(&ks.ss, &s->sregs.ss);
	seg_to_kvm(&ks.tr, &s->sregs.tr);
	seg_to_kvm(&ks.ldt, &s->sregs.ldt);
	ks.gdt.base = s->sregs.gdt.base;
	ks.gdt.limit = s->sregs.gdt.limit;
	ks.idt.base = s->sregs.idt.base;
	ks.idt.limit = s->sregs.idt.limit;
	ks.cr0 = s->sregs.cr0;
	ks.cr2 = s->sregs.cr2;
	ks.cr3 = s->sregs.cr3;
	ks.cr4 = s->sregs.cr4;
	ks.cr8 = s->sregs.cr8;
	ks.efer = s->sregs.efer;
	ks.apic_base = s->sregs.apic_base;
	memcpy(&kr, &s->regs, sizeof(kr));
	if (ioctl(b->vcpu, KVM_SET_SREGS, &ks)) {
		err_msg("KVM_SET_SREGS: %s", strerror(errno));
		return -1;
	}
	if (ioctl(b->vcpu, KVM_SET_REGS, &kr)) {
		err_msg("KVM_SET_REGS: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static unsigned long long kvm_rip(struct kvm_backend *b)
{
	struct kvm_regs r;

	return ioctl(b->vcpu, KVM_GET_REGS, &r) ? ~0ULL : r.rip;
}

static int kvm_run(struct vm *vm, struct vm_exit *e)
{
	struct kvm_backend *b = vm->priv;
	struct kvm_run *run = b->run;
	uint32_t n;

	if (ioctl(b->vcpu, KVM_RUN, 0) < 0) {
		if (errno == EINTR || errno == EAGAIN) {
			e->kind = VMEXIT_AGAIN;
			return 0;
		}
		err_msg("KVM_RUN: %s", strerror(errno));
		return -1;
	}
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		n = run->io.count * run->io.size;
		if (run->io.data_offset < sizeof(*run) ||
		    run->io.data_offset + n > b->run_size) {
			err_msg("KVM reported I/O data outside the run area");
			return -1;
		}
		e->kind = VMEXIT_IO;
		e->io.out = run->io.direction == KVM_EXIT_IO_OUT;
		e->io.size = run->io.size;
		e->io.port = run->io.port;
		e->io.count = run->io.count;
		e->io.data = (uint8_t *)run + run->io.data_offset;
		return 0;
	case KVM_EXIT_MMIO:
		e->kind = VMEXIT_MMIO;
		e->mmio.addr = run->mmio.phys_addr;
		e->mmio.data = run->mmio.data;
		e->mmio.len = run->mmio.len > 8 ? 8 : run->mmio.len;
		e->mmio.write = run->mmio.is_write;
		return 0;
	case KVM_EXIT_HLT:
		e->kind = VMEXIT_HLT;
		return 0;
	case KVM_EXIT_INTR:
	case KVM_EXIT_SET_TPR:
		/*
		 * SET_TPR: without an in-kernel local APIC, KVM reports CR8
		 * writes; vmtool has no interrupt controller that cares.
		 */
		e->kind = VMEXIT_AGAIN;
		return 0;
	case KVM_EXIT_SHUTDOWN:
		err_msg("guest shut down (triple fault) at rip 0x%llx", kvm_rip(b));
		return -1;
	case KVM_EXIT_FAIL_ENTRY:
		err_msg("the engine refused the guest state (reason 0x%llx)",
			(unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return -1;
	case KVM_EXIT_INTERNAL_ERROR:
		err_msg("internal error %u in the VMM at rip 0x%llx",
			run->internal.suberror, kvm_rip(b));
		return -1;
	case KVM_EXIT_SYSTEM_EVENT:
		err_msg("guest stopped the machine (event %u)", run->system_event.type);
		return -1;
	default:
		err_msg("unexpected KVM exit reason %u", run->exit_reason);
		return -1;
	}
}

static void kvm_destroy(struct vm *vm)
{
	struct kvm_backend *b = vm->priv;

	if (!b)
		return;
	if (b->run)
		munmap(b->run, b->run_size);
	if (b->vcpu >= 0)
		close(b->vcpu);
	if (b->vm >= 0)
		close(b->vm);
	if (b->sys >= 0)
		close(b->sys);
	free(b);
	vm->priv = NULL;
}

const struct backend_ops backend_kvm = {
	.name = "kvm",
	.create = kvm_create,
	.get_state = kvm_get_state,
	.set_state = kvm_set_state,
	.run = kvm_run,
	.destroy = kvm_destroy,
};
