// SPDX-License-Identifier: GPL-2.0
/*
 * vmtool run: create a VM, give it memory, load an image, run its vCPU and
 * serve the exits that hyvm hands to userspace (the console devices).
 *
 * Images are flat binaries for now: loaded at --load-addr (default 0x10000)
 * and entered in real mode with CS:IP = (load-addr >> 4):0, as a boot
 * sector or option ROM would be.  ELF and multiboot loaders come with the
 * engines that can run them.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "vmtool.h"

#define MIN_MEM		(64ULL << 10)
#define MAX_MEM		(1ULL << 40)
#define PAGE_SIZE_4K	4096ULL

/* The devices that live in vmtool. */
#define PORT_DEBUG_EXIT	0xf4	/* QEMU's isa-debug-exit convention */
#define PORT_DEBUGCON	0xe9
#define PORT_COM1	0x3f8
#define UART_LSR	5
#define UART_LSR_THRE_TEMT	0x60

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	stop_requested = sig;
}

static void run_usage(FILE *f)
{
	fprintf(f,
		"Usage: %s run [OPTIONS] IMAGE\n"
		"Runs IMAGE (a flat binary) in a new VM.\n\n"
		"  -e, --engine ENGINE   bt, vmx, svm or auto (default auto)\n"
		"  -m, --mem SIZE        guest RAM, e.g. 64M (default 64M, 4K multiple)\n"
		"      --load-addr ADDR  guest-physical load address (default 0x10000,\n"
		"                        16-byte aligned, below 1M)\n"
		"  -h, --help            this help\n\n"
		"The guest's console is a 16550 UART at 0x3f8 and the debug port 0xe9,\n"
		"both to stdout; writing V to port 0xf4 ends the run with exit status\n"
		"(V << 1) | 1.  HLT with interrupts off ends it with status 0.\n", prog);
}

struct vm {
	int sys, vm, vcpu;
	struct hyvm_run *run;
	uint8_t *mem;
	uint64_t mem_size;
};

/* Returns -1 to go on, or the exit status of vmtool. */
static int handle_io(struct vm *v)
{
	struct hyvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	uint32_t i, n = run->io.count * run->io.size;

	if (run->io.data_offset < sizeof(*run) || run->io.data_offset + n > 4096) {
		err_msg("hyvm reported I/O data outside the run page");
		return EXIT_ERR;
	}
	if (run->io.direction == HYVM_IO_OUT) {
		switch (run->io.port) {
		case PORT_DEBUG_EXIT:
			return (data[0] << 1) | 1;
		case PORT_DEBUGCON:
		case PORT_COM1:
			for (i = 0; i < n; i += run->io.size)
				putchar(data[i]);
			fflush(stdout);
			break;
		}
		return -1;
	}
	memset(data, 0xff, n);
	if (run->io.port == PORT_COM1 + UART_LSR)
		memset(data, UART_LSR_THRE_TEMT, n);
	else if (run->io.port == PORT_DEBUGCON)
		memset(data, PORT_DEBUGCON, n);
	return -1;
}

static int run_loop(struct vm *v, const char *engine)
{
	for (;;) {
		int ret;

		if (stop_requested) {
			err_msg("stopped by signal %d", (int)stop_requested);
			return EXIT_ERR;
		}
		if (ioctl(v->vcpu, HYVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EOPNOTSUPP) {
				err_msg("the %s engine cannot run guests yet "
					"(HYVM_RUN: %s)", engine, strerror(errno));
				return EXIT_ERR;
			}
			err_msg("HYVM_RUN: %s", strerror(errno));
			return EXIT_ERR;
		}
		switch (v->run->exit_reason) {
		case HYVM_EXIT_IO:
			ret = handle_io(v);
			if (ret >= 0)
				return ret;
			break;
		case HYVM_EXIT_HLT:
			return EXIT_OK;
		case HYVM_EXIT_SHUTDOWN:
			err_msg("guest shut down (triple fault) at rip 0x%llx",
				(unsigned long long)v->run->shutdown.rip);
			return EXIT_ERR;
		case HYVM_EXIT_FAIL_ENTRY:
			err_msg("the engine refused the guest state (reason 0x%llx)",
				(unsigned long long)v->run->fail_entry.hardware_reason);
			return EXIT_ERR;
		case HYVM_EXIT_INTERNAL:
			err_msg("internal error %u in the VMM",
				v->run->internal.suberror);
			return EXIT_ERR;
		case HYVM_EXIT_INTR:
			break;
		default:
			err_msg("unexpected exit reason %u", v->run->exit_reason);
			return EXIT_ERR;
		}
	}
}

static int load_flat(struct vm *v, const char *path, uint64_t addr)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t got;
	uint64_t off = 0;

	if (fd < 0) {
		err_msg("cannot open image '%s': %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		err_msg("image '%s' is not a regular file", path);
		close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size > v->mem_size - addr) {
		err_msg("image '%s' (%lld bytes) does not fit in guest memory at 0x%llx",
			path, (long long)st.st_size, (unsigned long long)addr);
		close(fd);
		return -1;
	}
	while (off < (uint64_t)st.st_size) {
		got = read(fd, v->mem + addr + off, st.st_size - off);
		if (got <= 0) {
			err_msg("reading image '%s': %s", path,
				got ? strerror(errno) : "short read");
			close(fd);
			return -1;
		}
		off += got;
	}
	close(fd);
	return 0;
}

static int setup_vcpu(struct vm *v, uint64_t load)
{
	struct hyvm_sregs s;
	struct hyvm_regs r = { .rflags = 2 };

	if (ioctl(v->vcpu, HYVM_GET_SREGS, &s)) {
		err_msg("HYVM_GET_SREGS: %s", strerror(errno));
		return -1;
	}
	s.cs.selector = load >> 4;
	s.cs.base = load;
	if (ioctl(v->vcpu, HYVM_SET_SREGS, &s) || ioctl(v->vcpu, HYVM_SET_REGS, &r)) {
		err_msg("setting the initial registers: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "engine", required_argument, NULL, 'e' },
		{ "mem", required_argument, NULL, 'm' },
		{ "load-addr", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct hyvm_memory_slot slot = { 0 };
	struct vm v = { .sys = -1, .vm = -1, .vcpu = -1, .mem_size = 64ULL << 20 };
	uint64_t load = 0x10000;
	const char *engine_arg = "auto";
	struct hyvm_vm_info info;
	int engine, c, ret = EXIT_ERR;

	optind = 1;
	while ((c = getopt_long(argc, argv, "e:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			engine_arg = optarg;
			break;
		case 'm':
			if (parse_size(optarg, &v.mem_size)) {
				err_msg("run: bad --mem '%s' (want a size such as 64M)", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'l':
			if (parse_u64(optarg, &load)) {
				err_msg("run: bad --load-addr '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			run_usage(stdout);
			return EXIT_OK;
		default:
			run_usage(stderr);
			return EXIT_USAGE;
		}
	}
	engine = engine_from_name(engine_arg);
	if (engine < 0) {
		err_msg("run: unknown engine '%s' (bt, vmx, svm or auto)", engine_arg);
		return EXIT_USAGE;
	}
	if (v.mem_size < MIN_MEM || v.mem_size > MAX_MEM ||
	    v.mem_size % PAGE_SIZE_4K) {
		err_msg("run: --mem must be a multiple of 4K between 64K and 1T");
		return EXIT_USAGE;
	}
	if (load % 16 || load >= (1 << 20) || load >= v.mem_size) {
		err_msg("run: --load-addr must be 16-byte aligned, below 1M and "
			"inside guest memory");
		return EXIT_USAGE;
	}
	if (optind != argc - 1) {
		err_msg("run: %s", optind == argc ? "missing IMAGE" : "more than one IMAGE");
		run_usage(stderr);
		return EXIT_USAGE;
	}

	v.sys = open_hyvm();
	if (v.sys < 0)
		return EXIT_ERR;
	v.vm = ioctl(v.sys, HYVM_CREATE_VM, engine);
	if (v.vm < 0) {
		err_msg("cannot create a VM with engine %s: %s (see '%s caps')",
			engine_arg, strerror(errno), prog);
		goto out;
	}
	if (ioctl(v.vm, HYVM_GET_VM_INFO, &info)) {
		err_msg("HYVM_GET_VM_INFO: %s", strerror(errno));
		goto out;
	}
	v.mem = mmap(NULL, v.mem_size, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (v.mem == MAP_FAILED) {
		err_msg("cannot allocate %llu bytes of guest memory: %s",
			(unsigned long long)v.mem_size, strerror(errno));
		v.mem = NULL;
		goto out;
	}
	slot.size = v.mem_size;
	slot.userspace_addr = (uintptr_t)v.mem;
	if (ioctl(v.vm, HYVM_SET_MEMORY_SLOT, &slot)) {
		err_msg("HYVM_SET_MEMORY_SLOT: %s", strerror(errno));
		goto out;
	}
	if (load_flat(&v, argv[optind], load))
		goto out;
	v.vcpu = ioctl(v.vm, HYVM_CREATE_VCPU, 0);
	if (v.vcpu < 0) {
		err_msg("HYVM_CREATE_VCPU: %s", strerror(errno));
		goto out;
	}
	v.run = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, v.vcpu, 0);
	if (v.run == MAP_FAILED) {
		err_msg("cannot map the vCPU run page: %s", strerror(errno));
		v.run = NULL;
		goto out;
	}
	if (setup_vcpu(&v, load))
		goto out;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	ret = run_loop(&v, engine_name(info.engine));
out:
	if (v.run)
		munmap(v.run, 4096);
	if (v.mem)
		munmap(v.mem, v.mem_size);
	if (v.vcpu >= 0)
		close(v.vcpu);
	if (v.vm >= 0)
		close(v.vm);
	close(v.sys);
	return ret;
}
