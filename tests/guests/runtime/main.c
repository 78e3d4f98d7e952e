// SPDX-License-Identifier: GPL-2.0
/*
 * The runtime's start, results and end.  rt_main() takes over from
 * vmtool's boot state, runs guest_main() and reports:
 *
 *   <guest>: <check>: ok             one line per CHECK()
 *   <guest>: <check>: FAILED
 *   <guest>: pass                    the last line, then port 0xf4 <- 0
 *   <guest>: fail (N of M checks)    ... or port 0xf4 <- 1
 *   <guest>: crash (why)             unexpected trap: port 0xf4 <- 2
 */
#include "runtime.h"

#define PORT_DEBUG_EXIT	0xf4

unsigned int rt_checks, rt_failures;
const struct hyvm_boot_info *rt_boot_info;

void rt_cpu_init(void);
void rt_paging_init(const struct hyvm_boot_info *bi);

void rt_exit(int code)
{
	for (;;) {
		outb(PORT_DEBUG_EXIT, code);
		/* Only reached if nobody listens on the port. */
		asm volatile("cli; hlt");
	}
}

void rt_panic(const char *fmt, ...)
{
	char buf[200];
	va_list ap;

	va_start(ap, fmt);
	rt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	rt_printf("%s: crash (%s)\n", guest_name, buf);
	rt_exit(EXIT_CRASH);
}

bool rt_check(bool ok, const char *fmt, ...)
{
	char buf[160];
	va_list ap;

	va_start(ap, fmt);
	rt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	rt_checks++;
	if (!ok)
		rt_failures++;
	rt_printf("%s: %s: %s\n", guest_name, buf, ok ? "ok" : "FAILED");
	return ok;
}

void rt_main(const struct hyvm_boot_info *bi);
void rt_main(const struct hyvm_boot_info *bi)
{
	if (bi->magic != HYVM_BOOT_MAGIC)
		rt_panic("no vmtool boot info at %p", bi);
	rt_boot_info = bi;
	rt_cpu_init();
	rt_paging_init(bi);
	rt_printf("%s: start (engine %s, %llu MiB)\n", guest_name, bi->engine,
		  bi->mem_size >> 20);
	if (bi->cmdline)
		rt_printf("%s: cmdline '%s'\n", guest_name, (const char *)bi->cmdline);
	guest_main(bi);
	if (!rt_checks)
		rt_panic("the guest checked nothing");
	if (rt_failures) {
		rt_printf("%s: fail (%u of %u checks)\n", guest_name, rt_failures,
			  rt_checks);
		rt_exit(EXIT_FAIL);
	}
	rt_printf("%s: pass (%u checks)\n", guest_name, rt_checks);
	rt_exit(EXIT_PASS);
}

void *memset(void *s, int c, size_t n)
{
	unsigned char *p = s;

	while (n--)
		*p++ = c;
	return s;
}

void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	while (n--)
		*dp++ = *sp++;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}
