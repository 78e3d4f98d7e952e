// SPDX-License-Identifier: GPL-2.0
/* vmtool caps: what this host's hyvm can run. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include "vmtool.h"

/* KVM is not one of hyvm's engines, but run --engine kvm is the reference. */
static void print_kvm(void)
{
	char why[128];
	int ok = !kvm_probe(why, sizeof(why));

	printf("reference kvm %s: %s\n", ok ? "available" : "unavailable", why);
}

int cmd_caps(int argc, char **argv)
{
	struct hyvm_caps caps;
	uint32_t e;
	int fd, v;

	if (argc > 1) {
		if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
			printf("Usage: %s caps\nPrints the ABI version and, per engine, "
			       "whether this host can use it and why; then whether KVM is usable\n"
			       "as the reference (run --engine kvm).\n", prog);
			return EXIT_OK;
		}
		err_msg("caps: unexpected argument '%s'", argv[1]);
		return EXIT_USAGE;
	}
	fd = open_hyvm();
	if (fd < 0)
		return EXIT_ERR;
	v = ioctl(fd, HYVM_GET_API_VERSION, 0);
	if (v != HYVM_API_VERSION) {
		err_msg("%s speaks API %d, vmtool speaks %d", hyvm_dev_path, v,
			HYVM_API_VERSION);
		close(fd);
		return EXIT_ERR;
	}
	if (ioctl(fd, HYVM_GET_CAPS, &caps)) {
		err_msg("HYVM_GET_CAPS: %s", strerror(errno));
		close(fd);
		return EXIT_ERR;
	}
	printf("api %u\n", caps.api_version);
	printf("default-engine %s\n", engine_name(caps.default_engine));
	printf("max-vcpus %u\nmax-slots %u\n", caps.max_vcpus, caps.max_slots);
	for (e = HYVM_ENGINE_BT; e < HYVM_ENGINE_MAX; e++) {
		struct hyvm_engine_info info = { .engine = e };

		if (ioctl(fd, HYVM_GET_ENGINE_INFO, &info)) {
			err_msg("HYVM_GET_ENGINE_INFO(%s): %s", engine_name(e),
				strerror(errno));
			close(fd);
			return EXIT_ERR;
		}
		printf("engine %s %s%s: %s", info.name,
		       info.available ? "available" : "unavailable",
		       info.available && !info.runnable ? " (not implemented yet)" : "",
		       info.reason);
		if (info.error)
			printf(" [%s]", strerror(-info.error));
		printf("\n");
	}
	close(fd);
	print_kvm();
	return EXIT_OK;
}
