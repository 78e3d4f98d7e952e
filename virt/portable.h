/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The environment of hyvm's portable core.
 *
 * The decoder, emulator, translator and shadow walker are built twice: into
 * hyvm.ko and into host-userspace unit tests and fuzzers.  They include this
 * header instead of kernel or libc headers, so that the same source compiles
 * in both places.  Anything that differs between the two (allocation,
 * logging, assertions) is reached through the names defined here; guest
 * memory, registers and the like are reached through callbacks that each
 * component defines in its own header.
 */
#ifndef HYVM_PORTABLE_H
#define HYVM_PORTABLE_H

#ifdef __KERNEL__

#include <linux/types.h>
#include <linux/kernel.h>
#include <linux/bits.h>
#include <linux/bug.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/compiler.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/printk.h>

/* Translation-cache tables can be megabytes: vmalloc when kmalloc cannot. */
#define hyvm_env_alloc(size)		kvzalloc((size), GFP_KERNEL_ACCOUNT)
#define hyvm_env_free(ptr)		kvfree(ptr)
#define hyvm_env_log(fmt, ...)		pr_debug("hyvm: " fmt, ##__VA_ARGS__)

#else /* host userspace: unit tests and fuzzers */

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <stdlib.h>
#include <stdio.h>
#include <errno.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#ifndef BIT
#define BIT(n)			(1UL << (n))
#endif
#define BIT_ULL(n)		(1ULL << (n))
#define GENMASK_ULL(h, l)	((~0ULL << (l)) & (~0ULL >> (63 - (h))))
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)
#define fallthrough		__attribute__((__fallthrough__))
#ifndef __always_inline
#define __always_inline		inline __attribute__((__always_inline__))
#endif
#define __maybe_unused		__attribute__((__unused__))
#define WARN_ON_ONCE(x)	({						\
	bool __w = !!(x);						\
									\
	if (__w)							\
		fprintf(stderr, "WARN_ON_ONCE(%s) at %s:%d\n", #x,	\
			__FILE__, __LINE__);				\
	__w;								\
})
#define BUILD_BUG_ON(cond)	_Static_assert(!(cond), #cond)
#define min(a, b)		((a) < (b) ? (a) : (b))
#define max(a, b)		((a) > (b) ? (a) : (b))
#define READ_ONCE(x)		(*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v)	(*(volatile __typeof__(x) *)&(x) = (v))

#define hyvm_env_alloc(size)		calloc(1, (size))
#define hyvm_env_free(ptr)		free(ptr)
#define hyvm_env_log(fmt, ...)		do { if (getenv("HYVM_DEBUG")) \
		fprintf(stderr, "hyvm: " fmt, ##__VA_ARGS__); } while (0)

#endif /* __KERNEL__ */

#endif /* HYVM_PORTABLE_H */
