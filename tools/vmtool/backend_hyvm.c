// SPDX-License-Identifier: GPL-2.0
/* Running guests with hyvm's engines, through /dev/hyvm. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include "vmtool.h"

#define RUN_PAGE	4096

struct hyvm_backend {
	int sys, vm, vcpu;
	struct hyvm_run *run;
};

static int hyvm_create(struct vm *vm, int engine)
{
	struct hyvm_backend *b = calloc(1, sizeof(*b));
	struct hyvm_memory_slot slot = { 0 };
	struct hyvm_vm_info info;

	if (!b) {
		err_msg("out of memory");
		return -1;
	}
	b->vm = b->vcpu = -1;
	vm->priv = b;
	b->sys = open_hyvm();
	if (b->sys < 0)
		return -1;
	b->vm = ioctl(b->sys, HYVM_CREATE_VM, engine);
	if (b->vm < 0) {
		err_msg("cannot create a VM with engine %s: %s (see '%s caps')",
			engine_name(engine), strerror(errno), prog);
		return -1;
	}
	if (ioctl(b->vm, HYVM_GET_VM_INFO, &info)) {
		err_msg("HYVM_GET_VM_INFO: %s", strerror(errno));
		return -1;
	}
	vm->engine = engine_name(info.engine);
	slot.size = vm->mem_size;
	slot.userspace_addr = (uintptr_t)vm->mem;
	if (ioctl(b->vm, HYVM_SET_MEMORY_SLOT, &slot)) {
		err_msg("HYVM_SET_MEMORY_SLOT: %s", strerror(errno));
		return -1;
	}
	b->vcpu = ioctl(b->vm, HYVM_CREATE_VCPU, 0);
	if (b->vcpu < 0) {
		err_msg("HYVM_CREATE_VCPU: %s", strerror(errno));
		return -1;
	}
	b->run = mmap(NULL, RUN_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      b->vcpu, 0);
	if (b->run == MAP_FAILED) {
		err_msg("cannot map the vCPU run page: %s", strerror(errno));
		b->run = NULL;
		return -1;
	}
	return 0;
}

static int hyvm_get_state(struct vm *vm, struct cpu_state *s)
{
	struct hyvm_backend *b = vm->priv;

	if (ioctl(b->vcpu, HYVM_GET_SREGS, &s->sregs) ||
	    ioctl(b->vcpu, HYVM_GET_REGS, &s->regs)) {
		err_msg("reading the vCPU's registers: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int hyvm_set_state(struct vm *vm, const struct cpu_state *s)
{
	struct hyvm_backend *b = vm->priv;

	if (ioctl(b->vcpu, HYVM_SET_SREGS, &s->sregs) ||
	    ioctl(b->vcpu, HYVM_SET_REGS, &s->regs)) {
		err_msg("setting the initial registers: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* What the VMM could not do, in words, with the data it gave. */
static void report_internal(const struct hyvm_run *run)
{
	static const char *const what[] = {
		[HYVM_INTERNAL_EMULATION]	= "instruction not emulated at",
		[HYVM_INTERNAL_DELIVERY]	= "cannot deliver vector",
		[HYVM_INTERNAL_MEMORY]		= "guest memory vanished at",
		[HYVM_INTERNAL_UNKNOWN_EXIT]	= "unknown hardware exit",
		[HYVM_INTERNAL_NOT_READY]	= "engine not ready, error",
		[HYVM_INTERNAL_VMM_REGION]	= "guest mapping in bt's VMM region at",
		[HYVM_INTERNAL_MONITOR]		= "bt monitor fault, vector",
	};
	uint32_t e = run->internal.suberror;

	if (e < sizeof(what) / sizeof(what[0]) && what[e])
		err_msg("internal error %u in the VMM: %s 0x%llx (0x%llx)", e,
			what[e], (unsigned long long)run->internal.data[0],
			(unsigned long long)run->internal.data[1]);
	else
		err_msg("internal error %u in the VMM", e);
}

static int hyvm_run(struct vm *vm, struct vm_exit *e)
{
	struct hyvm_backend *b = vm->priv;
	struct hyvm_run *run = b->run;
	uint32_t n;

	if (ioctl(b->vcpu, HYVM_RUN, 0) < 0) {
		if (errno == EINTR) {
			e->kind = VMEXIT_AGAIN;
			return 0;
		}
		if (errno == EOPNOTSUPP)
			err_msg("the %s engine cannot run guests yet (HYVM_RUN: %s)",
				vm->engine, strerror(errno));
		else
			err_msg("HYVM_RUN: %s", strerror(errno));
		return -1;
	}
	switch (run->exit_reason) {
	case HYVM_EXIT_IO:
		n = run->io.count * run->io.size;
		if (run->io.data_offset < sizeof(*run) ||
		    run->io.data_offset + n > RUN_PAGE) {
			err_msg("hyvm reported I/O data outside the run page");
			return -1;
		}
		e->kind = VMEXIT_IO;
		e->io.out = run->io.direction == HYVM_IO_OUT;
		e->io.size = run->io.size;
		e->io.port = run->io.port;
		e->io.count = run->io.count;
		e->io.data = (uint8_t *)run + run->io.data_offset;
		return 0;
	case HYVM_EXIT_MMIO:
		if (run->mmio.len > sizeof(run->mmio.data)) {
			err_msg("hyvm reported an MMIO access of %u bytes",
				run->mmio.len);
			return -1;
		}
		e->kind = VMEXIT_MMIO;
		e->mmio.addr = run->mmio.phys_addr;
		e->mmio.data = run->mmio.data;
		e->mmio.len = run->mmio.len;
		e->mmio.write = run->mmio.is_write;
		return 0;
	case HYVM_EXIT_HLT:
		e->kind = VMEXIT_HLT;
		return 0;
	case HYVM_EXIT_INTR:
		e->kind = VMEXIT_AGAIN;
		return 0;
	case HYVM_EXIT_SHUTDOWN:
		err_msg("guest shut down (triple fault) at rip 0x%llx",
			(unsigned long long)run->shutdown.rip);
		return -1;
	case HYVM_EXIT_FAIL_ENTRY:
		err_msg("the engine refused the guest state (reason 0x%llx)",
			(unsigned long long)run->fail_entry.hardware_reason);
		return -1;
	case HYVM_EXIT_INTERNAL:
		report_internal(run);
		return -1;
	case HYVM_EXIT_SYSTEM_EVENT:
		err_msg("guest stopped the machine (event %u, status 0x%llx)",
			run->system.type, (unsigned long long)run->system.status);
		return -1;
	default:
		err_msg("unexpected exit reason %u", run->exit_reason);
		return -1;
	}
}

static void hyvm_destroy(struct vm *vm)
{
	struct hyvm_backend *b = vm->priv;

	if (!b)
		return;
	if (b->run)
		munmap(b->run, RUN_PAGE);
	if (b->vcpu >= 0)
		close(b->vcpu);
	if (b->vm >= 0)
		close(b->vm);
	if (b->sys >= 0)
		close(b->sys);
	free(b);
	vm->priv = NULL;
}

const struct backend_ops backend_hyvm = {
	.name = "hyvm",
	.create = hyvm_create,
	.get_state = hyvm_get_state,
	.set_state = hyvm_set_state,
	.run = hyvm_run,
	.destroy = hyvm_destroy,
};
