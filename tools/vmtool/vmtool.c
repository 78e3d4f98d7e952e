// SPDX-License-Identifier: GPL-2.0
/*
 * vmtool: create and run hyvm VMs through /dev/hyvm.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vmtool.h"

const char *prog = "vmtool";
const char *hyvm_dev_path = "/dev/hyvm";

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "caps", cmd_caps, "show the ABI version and the engines this host can run" },
	{ "run",  cmd_run,  "run a guest image" },
	{ "stat", cmd_stat, "show the counters of running VMs (debugfs)" },
};

static void usage(FILE *f)
{
	unsigned int i;

	fprintf(f, "Usage: %s [--device PATH] COMMAND [OPTIONS]\n\nCommands:\n", prog);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-6s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nOptions:\n"
		"  --device PATH  the hyvm device (default /dev/hyvm)\n"
		"  -h, --help     this help; COMMAND --help for a command's own\n"
		"  --version      the ABI version vmtool was built for\n"
		"\nExit status: 0 success, 1 error, 2 usage error; for run, a guest\n"
		"that writes V to the debug-exit port 0xf4 makes it (V << 1) | 1.\n");
}

int main(int argc, char **argv)
{
	unsigned int i;

	while (argc > 1 && argv[1][0] == '-') {
		if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
			usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[1], "--version")) {
			printf("vmtool for hyvm API %d\n", HYVM_API_VERSION);
			return EXIT_OK;
		} else if (!strcmp(argv[1], "--device") && argc > 2) {
			hyvm_dev_path = argv[2];
			argc--;
			argv++;
		} else if (!strncmp(argv[1], "--device=", 9)) {
			hyvm_dev_path = argv[1] + 9;
		} else {
			err_msg("unknown option '%s'", argv[1]);
			usage(stderr);
			return EXIT_USAGE;
		}
		argc--;
		argv++;
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	err_msg("unknown command '%s' (try '%s --help')", argv[1], prog);
	return EXIT_USAGE;
}
