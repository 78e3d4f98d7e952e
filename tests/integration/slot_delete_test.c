// SPDX-License-Identifier: GPL-2.0
/*
 * A deleted memory slot is gone for the guest too, under every engine the
 * host can run: a real-mode guest reads a byte of one slot in a loop and
 * hands it to userspace on port 0x80; after the slot is deleted, the same
 * read must reach userspace as MMIO.  A nested table (svm npt=1, vmx
 * ept=1) that kept the old mapping would give the old byte instead.
 *
 * Prints "PASS: name" / "FAIL: name (why)" lines; exits 1 on any failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/hyvm.h>

static int failures;

static void result(int ok, const char *engine, const char *what,
		   const char *why)
{
	printf("%s: slot-delete-%s-%s", ok ? "PASS" : "FAIL", engine, what);
	if (!ok) {
		printf(" (%s)", why);
		failures++;
	}
	printf("\n");
}

/*
 *   mov ax, 0x1000 ; mov ds, ax
 * 1: mov al, [0]   ; out 0x80, al ; jmp 1b
 */
static const unsigned char guest[] = {
	0xb8, 0x00, 0x10, 0x8e, 0xd8, 0xa0, 0x00, 0x00, 0xe6, 0x80, 0xeb, 0xf9,
};

static int set_slot(int vm, __u32 id, __u64 gpa, __u64 size, void *hva)
{
	struct hyvm_memory_slot s = {
		.slot = id, .guest_phys = gpa, .size = size,
		.userspace_addr = (unsigned long)hva,
	};

	return ioctl(vm, HYVM_SET_MEMORY_SLOT, &s);
}

/* Run until the next exit; the value written to port 0x80, or -1. */
static int run_to_out(int vcpu, struct hyvm_run *run)
{
	if (ioctl(vcpu, HYVM_RUN, 0))
		return -1;
	if (run->exit_reason != HYVM_EXIT_IO || run->io.port != 0x80 ||
	    run->io.direction != HYVM_IO_OUT)
		return -1;
	return ((unsigned char *)run)[run->io.data_offset];
}

static void check_engine(int sys, __u32 engine, const char *name)
{
	struct hyvm_engine_info info = { .engine = engine };
	unsigned char *code, *data;
	struct hyvm_sregs sregs;
	struct hyvm_regs regs;
	struct hyvm_run *run;
	char why[128];
	int vm, vcpu, v;

	if (ioctl(sys, HYVM_GET_ENGINE_INFO, &info) || !info.available ||
	    !info.runnable) {
		printf("SKIP: slot-delete-%s (engine not available here)\n", name);
		return;
	}
	code = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	data = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	vm = ioctl(sys, HYVM_CREATE_VM, engine);
	vcpu = vm < 0 ? -1 : ioctl(vm, HYVM_CREATE_VCPU, 0);
	if (code == MAP_FAILED || data == MAP_FAILED || vcpu < 0 ||
	    set_slot(vm, 0, 0, 0x10000, code) ||
	    set_slot(vm, 1, 0x10000, 0x1000, data)) {
		snprintf(why, sizeof(why), "setup: errno %d", errno);
		result(0, name, "setup", why);
		goto out;
	}
	memcpy(code, guest, sizeof(guest));
	data[0] = 0x5a;
	run = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED || ioctl(vcpu, HYVM_GET_SREGS, &sregs) ||
	    ioctl(vcpu, HYVM_GET_REGS, &regs)) {
		result(0, name, "setup", "run page or registers");
		goto out;
	}
	sregs.cs.selector = 0;
	sregs.cs.base = 0;
	regs.rip = 0;
	regs.rflags = 2;
	if (ioctl(vcpu, HYVM_SET_SREGS, &sregs) ||
	    ioctl(vcpu, HYVM_SET_REGS, &regs)) {
		result(0, name, "setup", "set registers");
		goto out;
	}

	v = run_to_out(vcpu, run);
	snprintf(why, sizeof(why), "read %d, exit %u", v, run->exit_reason);
	result(v == 0x5a, name, "reads-slot", why);
	data[0] = 0xa5;
	v = run_to_out(vcpu, run);
	snprintf(why, sizeof(why), "read %d, exit %u", v, run->exit_reason);
	result(v == 0xa5, name, "sees-host-write", why);

	if (set_slot(vm, 1, 0x10000, 0, data)) {
		snprintf(why, sizeof(why), "errno %d", errno);
		result(0, name, "delete", why);
		goto out;
	}
	/* The guest is at its OUT or at the read: at most one more OUT. */
	v = run_to_out(vcpu, run);
	if (v >= 0)
		v = run_to_out(vcpu, run);
	snprintf(why, sizeof(why), "exit %u gpa %#llx (a read of %d: the old page is still mapped)",
		 run->exit_reason, (unsigned long long)run->mmio.phys_addr, v);
	result(v < 0 && run->exit_reason == HYVM_EXIT_MMIO &&
	       run->mmio.phys_addr == 0x10000 && !run->mmio.is_write,
	       name, "then-mmio", why);
	munmap(run, 4096);
out:
	if (vcpu >= 0)
		close(vcpu);
	if (vm >= 0)
		close(vm);
	munmap(code, 0x10000);
	munmap(data, 0x1000);
}

int main(void)
{
	int sys = open("/dev/hyvm", O_RDWR);

	if (sys < 0) {
		printf("FAIL: slot-delete-open (/dev/hyvm: %s)\n", strerror(errno));
		return 1;
	}
	check_engine(sys, HYVM_ENGINE_BT, "bt");
	check_engine(sys, HYVM_ENGINE_SVM, "svm");
	check_engine(sys, HYVM_ENGINE_VMX, "vmx");
	close(sys);
	return failures ? 1 : 0;
}
