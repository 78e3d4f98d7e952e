// SPDX-License-Identifier: GPL-2.0
/*
 * vmtool run: create a VM with one of the backends (hyvm's engines through
 * /dev/hyvm, or KVM for reference), load an image, run its vCPU and serve
 * the exits that reach userspace with the devices of devices.c.  The loop
 * and the devices are the same for every backend, so a guest gives
 * comparable results under each.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "vmtool.h"

#define MIN_MEM		(64ULL << 10)
#define MAX_MEM		(1ULL << 40)
#define PAGE_SIZE_4K	4096ULL

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	stop_requested = sig;
}

static void run_usage(FILE *f)
{
	fprintf(f,
		"Usage: %s run [OPTIONS] IMAGE\n"
		"Runs IMAGE in a new VM.\n\n"
		"  -e, --engine ENGINE   bt, vmx, svm or auto (hyvm, default auto), or\n"
		"                        kvm (the same guest through /dev/kvm, for reference)\n"
		"  -m, --mem SIZE        guest RAM, e.g. 64M (default 64M, 4K multiple)\n"
		"  -f, --format FORMAT   auto (default), elf, multiboot or flat\n"
		"      --load-addr ADDR  flat images: guest-physical load address\n"
		"                        (default 0x10000, 16-byte aligned, below 1M)\n"
		"      --cmdline STRING  command line for ELF and multiboot images\n"
		"      --stats           print the VM's counters (hyvm debugfs) when it\n"
		"                        stops, to stderr\n"
		"  -h, --help            this help\n\n"
		"Formats (auto: from the file): a multiboot v1 header in the first 8K\n"
		"starts in 32-bit protected mode as the multiboot spec says; ELF64 starts\n"
		"in 64-bit long mode with vmtool's boot info in RDI; anything else is a\n"
		"flat binary started in real mode at CS:IP = (load-addr >> 4):0.\n\n"
		"The guest's console is a 16550 UART at 0x3f8 and the debug port 0xe9,\n"
		"both to stdout; writing V to port 0xf4 ends the run with exit status\n"
		"(V << 1) | 1.  HLT with interrupts off ends it with status 0 (under\n"
		"kvm, which has no interrupt sources here, any HLT).\n", prog);
}

static int run_loop(struct vm *vm)
{
	struct vm_exit e;
	int ret;

	for (;;) {
		if (stop_requested) {
			err_msg("stopped by signal %d", (int)stop_requested);
			return EXIT_ERR;
		}
		memset(&e, 0, sizeof(e));
		if (vm->ops->run(vm, &e))
			return EXIT_ERR;
		switch (e.kind) {
		case VMEXIT_IO:
			ret = devices_io(vm, &e);
			if (ret >= 0)
				return ret;
			break;
		case VMEXIT_MMIO:
			ret = devices_mmio(vm, &e);
			if (ret >= 0)
				return ret;
			break;
		case VMEXIT_HLT:
			return EXIT_OK;
		case VMEXIT_DONE:
			return e.status;
		case VMEXIT_AGAIN:
			break;
		}
	}
}

int cmd_run(int argc, char **argv)
{
	enum { OPT_LOAD_ADDR = 256, OPT_CMDLINE, OPT_STATS };
	static const struct option opts[] = {
		{ "engine", required_argument, NULL, 'e' },
		{ "mem", required_argument, NULL, 'm' },
		{ "format", required_argument, NULL, 'f' },
		{ "load-addr", required_argument, NULL, OPT_LOAD_ADDR },
		{ "cmdline", required_argument, NULL, OPT_CMDLINE },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct vm vm = { .ops = &backend_hyvm, .mem_size = 64ULL << 20 };
	struct load_opts lo = { .format = FMT_AUTO, .load_addr = 0x10000 };
	const char *engine_arg = "auto";
	struct cpu_state state;
	int engine = 0, c, f, ret = EXIT_ERR;
	bool stats = false;

	optind = 1;
	while ((c = getopt_long(argc, argv, "e:m:f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			engine_arg = optarg;
			break;
		case 'm':
			if (parse_size(optarg, &vm.mem_size)) {
				err_msg("run: bad --mem '%s' (want a size such as 64M)", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'f':
			f = image_format_from_name(optarg);
			if (f < 0) {
				err_msg("run: unknown format '%s' (auto, elf, multiboot or flat)",
					optarg);
				return EXIT_USAGE;
			}
			lo.format = f;
			break;
		case OPT_LOAD_ADDR:
			if (parse_u64(optarg, &lo.load_addr)) {
				err_msg("run: bad --load-addr '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_CMDLINE:
			lo.cmdline = optarg;
			break;
		case OPT_STATS:
			stats = true;
			break;
		case 'h':
			run_usage(stdout);
			return EXIT_OK;
		default:
			run_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!strcmp(engine_arg, "kvm")) {
		vm.ops = &backend_kvm;
	} else {
		engine = engine_from_name(engine_arg);
		if (engine < 0) {
			err_msg("run: unknown engine '%s' (bt, vmx, svm, auto or kvm)",
				engine_arg);
			return EXIT_USAGE;
		}
	}
	if (vm.mem_size < MIN_MEM || vm.mem_size > MAX_MEM ||
	    vm.mem_size % PAGE_SIZE_4K) {
		err_msg("run: --mem must be a multiple of 4K between 64K and 1T");
		return EXIT_USAGE;
	}
	if (lo.load_addr % 16 || lo.load_addr >= (1 << 20) ||
	    lo.load_addr >= vm.mem_size) {
		err_msg("run: --load-addr must be 16-byte aligned, below 1M and "
			"inside guest memory");
		return EXIT_USAGE;
	}
	if (optind != argc - 1) {
		err_msg("run: %s", optind == argc ? "missing IMAGE" : "more than one IMAGE");
		run_usage(stderr);
		return EXIT_USAGE;
	}

	vm.mem = mmap(NULL, vm.mem_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm.mem == MAP_FAILED) {
		err_msg("cannot allocate %llu bytes of guest memory: %s",
			(unsigned long long)vm.mem_size, strerror(errno));
		return EXIT_ERR;
	}
	if (vm.ops->create(&vm, engine) || vm.ops->get_state(&vm, &state) ||
	    load_image(&vm, argv[optind], &lo, &state) ||
	    vm.ops->set_state(&vm, &state))
		goto out;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	ret = run_loop(&vm);
	if (stats)
		stat_show_own();
out:
	vm.ops->destroy(&vm);
	munmap(vm.mem, vm.mem_size);
	return ret;
}
