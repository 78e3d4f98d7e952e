// SPDX-License-Identifier: GPL-2.0
/*
 * vmtool stat: the counters hyvm keeps in debugfs for each running VM,
 * /sys/kernel/debug/hyvm/<pid>-<vmid>/{engine,stats,vcpuN/stats}.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "vmtool.h"

static const char *debugfs_dir = "/sys/kernel/debug/hyvm";

static void print_file(FILE *out, const char *path, const char *indent)
{
	char line[256];
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		fprintf(out, "%s%s", indent, line);
	fclose(f);
}

static int vm_filter(const struct dirent *d)
{
	return strchr(d->d_name, '-') != NULL;
}

static int vcpu_filter(const struct dirent *d)
{
	return !strncmp(d->d_name, "vcpu", 4);
}

static void show_vm(FILE *out, const char *name)
{
	char path[512], engine[32] = "?";
	struct dirent **vcpus;
	FILE *f;
	int n, i;

	snprintf(path, sizeof(path), "%s/%s/engine", debugfs_dir, name);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%31s", engine) != 1)
			strcpy(engine, "?");
		fclose(f);
	}
	fprintf(out, "vm %s engine %s\n", name, engine);
	snprintf(path, sizeof(path), "%s/%s/stats", debugfs_dir, name);
	print_file(out, path, "  ");
	snprintf(path, sizeof(path), "%s/%s", debugfs_dir, name);
	n = scandir(path, &vcpus, vcpu_filter, versionsort);
	for (i = 0; i < n; i++) {
		fprintf(out, "  %s\n", vcpus[i]->d_name);
		snprintf(path, sizeof(path), "%s/%s/%s/stats", debugfs_dir, name,
			 vcpus[i]->d_name);
		print_file(out, path, "    ");
		free(vcpus[i]);
	}
	if (n >= 0)
		free(vcpus);
}

int cmd_stat(int argc, char **argv)
{
	struct dirent **vms;
	int n, i, shown = 0;

	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("Usage: %s stat [PID-VMID...]\n"
		       "Prints the counters of running VMs from %s (all by default).\n",
		       prog, debugfs_dir);
		return EXIT_OK;
	}
	n = scandir(debugfs_dir, &vms, vm_filter, versionsort);
	if (n < 0) {
		err_msg("cannot read %s: %s (is debugfs mounted and hyvm loaded?)",
			debugfs_dir, strerror(errno));
		return EXIT_ERR;
	}
	for (i = 0; i < n; i++) {
		bool want = argc <= 1;
		int a;

		for (a = 1; a < argc; a++)
			if (!strcmp(argv[a], vms[i]->d_name))
				want = true;
		if (want) {
			show_vm(stdout, vms[i]->d_name);
			shown++;
		}
		free(vms[i]);
	}
	free(vms);
	if (argc > 1 && shown != argc - 1) {
		err_msg("stat: no such VM (see '%s stat' for the running ones)", prog);
		return EXIT_ERR;
	}
	if (!shown)
		printf("no VMs running\n");
	return EXIT_OK;
}

/* vmtool run --stats: this process's VMs, to stderr, before they go away. */
void stat_show_own(void)
{
	struct dirent **vms;
	char prefix[32];
	int n, i;

	snprintf(prefix, sizeof(prefix), "%d-", (int)getpid());
	n = scandir(debugfs_dir, &vms, vm_filter, versionsort);
	if (n < 0) {
		err_msg("cannot read %s: %s", debugfs_dir, strerror(errno));
		return;
	}
	for (i = 0; i < n; i++) {
		if (!strncmp(vms[i]->d_name, prefix, strlen(prefix)))
			show_vm(stderr, vms[i]->d_name);
		free(vms[i]);
	}
	free(vms);
}
