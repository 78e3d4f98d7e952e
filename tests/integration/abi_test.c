// SPDX-License-Identifier: GPL-2.0
/*
 * hyvm-abi-test: the /dev/hyvm ABI, its error cases and its lifetime rules,
 * run inside the emulated hosts.  One "PASS: abi/<name>" or
 * "FAIL: abi/<name> (...)" line per check.
 *
 *   hyvm-abi-test            all checks
 *   hyvm-abi-test hold       create a VM, vCPU, slot and run mapping, print
 *                            HOLDING and sleep: the plan kills it with -9
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <linux/hyvm.h>

static int failures;

static void result(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("%s: abi/%s", ok ? "PASS" : "FAIL", name);
	if (!ok && fmt) {
		printf(" (");
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf(")");
	}
	printf("\n");
	fflush(stdout);
	failures += !ok;
}

/* An ioctl that must fail with @want_errno. */
static void expect_err(const char *name, int fd, unsigned long cmd,
		       unsigned long arg, int want_errno)
{
	int ret = ioctl(fd, cmd, arg);
	int e = errno;

	result(ret == -1 && e == want_errno, name, "ret %d errno %s, want %s",
	       ret, ret == -1 ? strerrorname_np(e) : "-",
	       strerrorname_np(want_errno));
	if (ret >= 0 && (cmd == HYVM_CREATE_VM || cmd == HYVM_CREATE_VCPU))
		close(ret);
}

static void expect_ok(const char *name, int ret)
{
	int e = errno;

	result(ret >= 0, name, "ret %d errno %s", ret, strerrorname_np(e));
}

static int set_slot(int vm, __u32 id, __u64 gpa, __u64 size, void *hva,
		    __u32 flags)
{
	struct hyvm_memory_slot s = {
		.slot = id, .flags = flags, .guest_phys = gpa, .size = size,
		.userspace_addr = (unsigned long)hva,
	};

	return ioctl(vm, HYVM_SET_MEMORY_SLOT, &s);
}

static void expect_slot_err(const char *name, int vm, __u32 id, __u64 gpa,
			    __u64 size, void *hva, __u32 flags, int want)
{
	int ret = set_slot(vm, id, gpa, size, hva, flags);
	int e = errno;

	result(ret == -1 && e == want, name, "ret %d errno %s, want %s", ret,
	       ret == -1 ? strerrorname_np(e) : "-", strerrorname_np(want));
}

/* "vms N\nvcpus M" from debugfs, or -1 each when unreadable. */
static void live_counts(int *vms, int *vcpus)
{
	FILE *f = fopen("/sys/kernel/debug/hyvm/live", "r");

	*vms = *vcpus = -1;
	if (!f)
		return;
	if (fscanf(f, "vms %d vcpus %d", vms, vcpus) != 2)
		*vms = *vcpus = -1;
	fclose(f);
}

static void check_system(int sys)
{
	struct hyvm_caps caps;
	struct hyvm_engine_info info = { .engine = 99 };
	int ret;

	ret = ioctl(sys, HYVM_GET_API_VERSION, 0);
	result(ret == HYVM_API_VERSION, "api-version", "got %d", ret);
	expect_err("api-version-arg", sys, HYVM_GET_API_VERSION, 1, EINVAL);
	expect_err("sys-unknown-ioctl", sys, _IO(HYVMIO, 0x7f), 0, ENOTTY);
	expect_err("sys-foreign-magic", sys, _IO(0xAE, 0x00), 0, ENOTTY);
	expect_err("sys-vm-ioctl", sys, HYVM_CREATE_VCPU, 0, ENOTTY);
	ret = ioctl(sys, HYVM_GET_CAPS, &caps);
	result(!ret && caps.api_version == HYVM_API_VERSION &&
	       (caps.engines_available & (1u << HYVM_ENGINE_BT)) &&
	       caps.vcpu_mmap_size == 4096, "caps", "ret %d api %u avail %#x",
	       ret, caps.api_version, caps.engines_available);
	expect_err("caps-efault", sys, HYVM_GET_CAPS, 16, EFAULT);
	expect_err("engine-info-bad-engine", sys, HYVM_GET_ENGINE_INFO,
		   (unsigned long)&info, EINVAL);
	expect_err("engine-info-efault", sys, HYVM_GET_ENGINE_INFO, 8, EFAULT);
	expect_err("create-vm-bad-engine", sys, HYVM_CREATE_VM, 99, EINVAL);
	ret = ioctl(sys, HYVM_GET_VCPU_MMAP_SIZE, 0);
	result(ret == 4096, "vcpu-mmap-size", "got %d", ret);

	/* An engine this host cannot run must fail with the reason it gave. */
	for (__u32 e = HYVM_ENGINE_BT; e < HYVM_ENGINE_MAX; e++) {
		struct hyvm_engine_info i = { .engine = e };

		if (ioctl(sys, HYVM_GET_ENGINE_INFO, &i) || i.available)
			continue;
		ret = ioctl(sys, HYVM_CREATE_VM, e);
		result(ret == -1 && -errno == i.error, "create-vm-unavailable",
		       "engine %s: ret %d errno %d, info says %d", i.name, ret,
		       errno, i.error);
		if (ret >= 0)
			close(ret);
	}
}

static void check_slots(int vm)
{
	size_t sz = 1 << 20;
	char *mem = mmap(NULL, 2 * sz, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *hole;
	int ret;

	hole = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(hole, 4096);
	expect_slot_err("slot-unaligned-gpa", vm, 0, 0x800, sz, mem, 0, EINVAL);
	expect_slot_err("slot-unaligned-size", vm, 0, 0, sz - 1, mem, 0, EINVAL);
	expect_slot_err("slot-unaligned-hva", vm, 0, 0, sz, mem + 8, 0, EINVAL);
	expect_slot_err("slot-bad-id", vm, 32, 0, sz, mem, 0, EINVAL);
	expect_slot_err("slot-bad-flags", vm, 0, 0, sz, mem, 0x80, EINVAL);
	expect_slot_err("slot-oversize", vm, 0, 0, 1ULL << 53, mem, 0, EINVAL);
	expect_slot_err("slot-gpa-wraps", vm, 0, ~0xfffULL, sz, mem, 0, EINVAL);
	expect_slot_err("slot-unmapped-hva", vm, 0, 0, 4096, hole, 0, EFAULT);
	expect_slot_err("slot-partly-unmapped", vm, 0, 0, 4 * sz, mem, 0, EFAULT);
	expect_slot_err("slot-kernel-hva", vm, 0, 0, sz,
			(void *)0xffff888000000000ULL, 0, EFAULT);
	expect_err("slot-efault", vm, HYVM_SET_MEMORY_SLOT, 8, EFAULT);
	ret = set_slot(vm, 0, 0, sz, mem, 0);
	expect_ok("slot-create", ret);
	expect_slot_err("slot-id-in-use", vm, 0, 0x10000000, sz, mem, 0, EEXIST);
	expect_slot_err("slot-overlap", vm, 1, sz - 4096, sz, mem + sz, 0, EEXIST);
	ret = set_slot(vm, 1, sz, sz, mem + sz, HYVM_MEM_READONLY);
	expect_ok("slot-adjacent", ret);
	ret = set_slot(vm, 1, 0, 0, NULL, 0);
	expect_ok("slot-delete", ret);
	expect_slot_err("slot-delete-free", vm, 1, 0, 0, NULL, 0, ENOENT);
	ret = set_slot(vm, 1, sz, sz, mem + sz, 0);
	expect_ok("slot-recreate", ret);
	/* The slots keep the addresses, not the memory: unmapping is allowed. */
}

static void check_vcpu(int vm, int sys)
{
	struct hyvm_regs regs, regs2;
	struct hyvm_sregs sregs, bad;
	struct hyvm_run *run;
	int vcpu, ret;
	void *p;

	expect_err("vcpu-bad-id", vm, HYVM_CREATE_VCPU, 64, EINVAL);
	vcpu = ioctl(vm, HYVM_CREATE_VCPU, 0);
	expect_ok("vcpu-create", vcpu);
	if (vcpu < 0)
		return;
	expect_err("vcpu-id-in-use", vm, HYVM_CREATE_VCPU, 0, EEXIST);
	expect_err("vcpu-unknown-ioctl", vcpu, _IO(HYVMIO, 0x7e), 0, ENOTTY);
	expect_err("vcpu-sys-ioctl", vcpu, HYVM_CREATE_VM, 1, ENOTTY);

	ret = ioctl(vcpu, HYVM_GET_REGS, &regs);
	result(!ret && regs.rip == 0xfff0 && regs.rflags == 2, "regs-reset",
	       "ret %d rip %#llx rflags %#llx", ret, regs.rip, regs.rflags);
	regs.rax = 0x1122334455667788ULL;
	regs.r15 = 42;
	regs.rflags = 0;
	ret = ioctl(vcpu, HYVM_SET_REGS, &regs);
	ret |= ioctl(vcpu, HYVM_GET_REGS, &regs2);
	result(!ret && regs2.rax == regs.rax && regs2.r15 == 42 &&
	       regs2.rflags == 2, "regs-roundtrip", "ret %d", ret);
	expect_err("regs-efault", vcpu, HYVM_GET_REGS, 8, EFAULT);

	ret = ioctl(vcpu, HYVM_GET_SREGS, &sregs);
	result(!ret && sregs.cs.selector == 0xf000 &&
	       sregs.cs.base == 0xffff0000 && sregs.cr0 == 0x60000010,
	       "sregs-reset", "ret %d cs %#x base %#llx cr0 %#llx", ret,
	       sregs.cs.selector, sregs.cs.base, sregs.cr0);
	bad = sregs;
	bad.cr0 = 0x80000000;		/* paging without protection */
	expect_err("sregs-pg-without-pe", vcpu, HYVM_SET_SREGS,
		   (unsigned long)&bad, EINVAL);
	bad = sregs;
	bad.efer = 1ULL << 20;		/* reserved */
	expect_err("sregs-reserved-efer", vcpu, HYVM_SET_SREGS,
		   (unsigned long)&bad, EINVAL);
	bad = sregs;
	bad.reserved[0] = 1;
	expect_err("sregs-reserved-field", vcpu, HYVM_SET_SREGS,
		   (unsigned long)&bad, EINVAL);
	bad = sregs;
	bad.cr0 = 0x80000011;
	bad.efer = 0x500;		/* LME|LMA */
	bad.cr4 = 0;			/* long mode without PAE */
	expect_err("sregs-long-mode-no-pae", vcpu, HYVM_SET_SREGS,
		   (unsigned long)&bad, EINVAL);
	bad.cr4 = 0x20;
	ret = ioctl(vcpu, HYVM_SET_SREGS, &bad);
	expect_ok("sregs-long-mode", ret);
	ret = ioctl(vcpu, HYVM_SET_SREGS, &sregs);

	p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	result(p == MAP_FAILED && errno == EINVAL, "run-mmap-two-pages", "%p", p);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 4096);
	result(p == MAP_FAILED && errno == EINVAL, "run-mmap-offset", "%p", p);
	run = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	result(run != MAP_FAILED && run->exit_reason == HYVM_EXIT_NONE,
	       "run-mmap", "%p", run);
	if (run == MAP_FAILED)
		return;

	run->immediate_exit = 1;
	ret = ioctl(vcpu, HYVM_RUN, 0);
	result(ret == -1 && errno == EINTR && run->exit_reason == HYVM_EXIT_INTR,
	       "run-immediate-exit", "ret %d errno %d reason %u", ret, errno,
	       run->exit_reason);
	run->immediate_exit = 0;
	expect_err("run-arg", vcpu, HYVM_RUN, 1, EINVAL);

	/* Close the VM fd first: the vCPU fd keeps the VM alive. */
	close(vm);
	ret = ioctl(vcpu, HYVM_GET_REGS, &regs2);
	result(!ret && regs2.r15 == 42, "vcpu-outlives-vm-fd", "ret %d", ret);
	close(vcpu);
	/* The run mapping still holds the vCPU. */
	int vms, vcpus;

	live_counts(&vms, &vcpus);
	result(vms == 1 && vcpus == 1, "mapping-holds-vcpu", "vms %d vcpus %d",
	       vms, vcpus);
	run->immediate_exit = 7;	/* still writable, still ours */
	munmap(run, 4096);
	live_counts(&vms, &vcpus);
	result(vms == 0 && vcpus == 0, "all-freed", "vms %d vcpus %d", vms, vcpus);
	expect_err("ioctl-closed-fd", vcpu, HYVM_GET_REGS, (unsigned long)&regs,
		   EBADF);
	ret = close(vcpu);
	result(ret == -1 && errno == EBADF, "double-close", "ret %d", ret);
	(void)sys;
}

static void check_run(int sys, __u32 engine, const char *name)
{
	struct hyvm_engine_info info = { .engine = engine };
	char test[64];
	int vm, vcpu, ret;

	if (ioctl(sys, HYVM_GET_ENGINE_INFO, &info) || !info.available)
		return;
	vm = ioctl(sys, HYVM_CREATE_VM, engine);
	snprintf(test, sizeof(test), "create-vm-engine-%s", name);
	expect_ok(test, vm);
	if (vm < 0)
		return;
	vcpu = ioctl(vm, HYVM_CREATE_VCPU, 3);
	ret = ioctl(vcpu, HYVM_RUN, 0);
	snprintf(test, sizeof(test), "run-%s", name);
	if (info.runnable)
		result(ret == 0 || errno != EOPNOTSUPP, test, "errno %d", errno);
	else
		result(ret == -1 && errno == EOPNOTSUPP, test,
		       "ret %d errno %d (engine not implemented: want EOPNOTSUPP)",
		       ret, errno);
	close(vcpu);
	close(vm);
}

static void check_foreign_mm(int sys)
{
	int vm = ioctl(sys, HYVM_CREATE_VM, HYVM_ENGINE_BT);
	int status = 0;
	pid_t pid;

	if (vm < 0) {
		result(0, "foreign-mm", "create: %d", errno);
		return;
	}
	pid = fork();
	if (pid == 0) {
		/* A child shares the fd but not the mm: it must be refused. */
		int ret = ioctl(vm, HYVM_CREATE_VCPU, 0);

		_exit(ret == -1 && errno == EIO ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	result(WIFEXITED(status) && WEXITSTATUS(status) == 0, "foreign-mm",
	       "child status %#x", status);
	close(vm);
}

static void check_debugfs(int sys)
{
	struct hyvm_vm_info info;
	char path[128], line[64];
	int vm = ioctl(sys, HYVM_CREATE_VM, HYVM_ENGINE_BT);
	int vcpu = ioctl(vm, HYVM_CREATE_VCPU, 1);
	int found = 0;
	FILE *f;

	if (ioctl(vm, HYVM_GET_VM_INFO, &info)) {
		result(0, "vm-info", "errno %d", errno);
		return;
	}
	result(info.engine == HYVM_ENGINE_BT && info.nr_vcpus == 1, "vm-info",
	       "engine %u vcpus %u", info.engine, info.nr_vcpus);
	snprintf(path, sizeof(path), "/sys/kernel/debug/hyvm/%d-%u/stats",
		 getpid(), info.vm_id);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		found |= !strcmp(line, "vcpus 1\n");
	if (f)
		fclose(f);
	result(found, "debugfs-vm-stats", "%s", path);
	snprintf(path, sizeof(path), "/sys/kernel/debug/hyvm/%d-%u/vcpu1/stats",
		 getpid(), info.vm_id);
	result(access(path, R_OK) == 0, "debugfs-vcpu-stats", "%s", path);
	close(vcpu);
	close(vm);
	result(access(path, F_OK) != 0, "debugfs-removed", "%s", path);
}

static int hold(void)
{
	static char mem[1 << 16] __attribute__((aligned(4096)));
	int sys = open("/dev/hyvm", O_RDWR);
	int vm = ioctl(sys, HYVM_CREATE_VM, HYVM_ENGINE_BT);
	int vcpu = ioctl(vm, HYVM_CREATE_VCPU, 0);
	void *run = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);

	if (sys < 0 || vm < 0 || vcpu < 0 || run == MAP_FAILED ||
	    set_slot(vm, 0, 0, sizeof(mem), mem, 0)) {
		perror("hold");
		return 1;
	}
	printf("HOLDING\n");
	fflush(stdout);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	int sys, vm;

	if (argc > 1 && !strcmp(argv[1], "hold"))
		return hold();
	sys = open("/dev/hyvm", O_RDWR | O_CLOEXEC);
	result(sys >= 0, "open", "errno %d", errno);
	if (sys < 0)
		return 1;
	check_system(sys);
	vm = ioctl(sys, HYVM_CREATE_VM, HYVM_ENGINE_BT);
	expect_ok("create-vm-bt", vm);
	if (vm >= 0) {
		expect_err("vm-unknown-ioctl", vm, _IO(HYVMIO, 0x7d), 0, ENOTTY);
		check_slots(vm);
		check_vcpu(vm, sys);	/* closes vm */
	}
	check_run(sys, HYVM_ENGINE_BT, "bt");
	check_run(sys, HYVM_ENGINE_VMX, "vmx");
	check_run(sys, HYVM_ENGINE_SVM, "svm");
	check_foreign_mm(sys);
	check_debugfs(sys);
	close(sys);
	return failures ? 1 : 0;
}
