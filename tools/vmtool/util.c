// SPDX-License-Identifier: GPL-2.0
/* vmtool: helpers shared by the subcommands. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "vmtool.h"

static const char *const engine_names[HYVM_ENGINE_MAX] = {
	[HYVM_ENGINE_AUTO] = "auto",
	[HYVM_ENGINE_BT]   = "bt",
	[HYVM_ENGINE_VMX]  = "vmx",
	[HYVM_ENGINE_SVM]  = "svm",
};

void err_msg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int open_hyvm(void)
{
	int fd = open(hyvm_dev_path, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;

		err_msg("cannot open %s: %s%s", hyvm_dev_path, strerror(e),
			e == ENOENT ? " (is the hyvm module loaded?)" : "");
		return -1;
	}
	return fd;
}

const char *engine_name(uint32_t engine)
{
	return engine < HYVM_ENGINE_MAX ? engine_names[engine] : "unknown";
}

int engine_from_name(const char *name)
{
	int i;

	for (i = 0; i < HYVM_ENGINE_MAX; i++)
		if (!strcmp(name, engine_names[i]))
			return i;
	return -1;
}

int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno || *end ? -1 : 0;
}

/* "64M", "1G", "4096", "0x100000": bytes, with binary K/M/G/T suffixes. */
int parse_size(const char *s, uint64_t *out)
{
	char buf[64], *end;
	unsigned int shift = 0;
	size_t n = strlen(s);
	uint64_t v;

	if (!n || n >= sizeof(buf) || *s == '-')
		return -1;
	memcpy(buf, s, n + 1);
	switch (buf[n - 1]) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	case 't': case 'T': shift = 40; break;
	}
	if (shift)
		buf[n - 1] = 0;
	if (!buf[0])
		return -1;
	errno = 0;
	v = strtoull(buf, &end, 0);
	if (errno || *end || (shift && v > (UINT64_MAX >> shift)))
		return -1;
	*out = v << shift;
	return 0;
}
