/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fake guest memory and a seeded PRNG for the shadow MMU unit tests.
 */
#ifndef TEST_SHADOW_FAKE_H
#define TEST_SHADOW_FAKE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "shadow/walk.h"

#define FAKE_PAGES	64

struct fake_mem {
	u8 *bytes;		/* FAKE_PAGES pages from gpa 0 */
	u64 npages;		/* backed frames: 0 .. npages-1 */
	int fail_cmpxchg;	/* make the next cmpxchg race (tests) */
	u64 race_value;
	u64 cmpxchgs;
};

static inline int fake_read(void *o, u64 gpa, void *buf, unsigned int len)
{
	struct fake_mem *m = o;

	if (gpa + len > m->npages * 4096 || gpa + len < gpa)
		return -EFAULT;
	memcpy(buf, m->bytes + gpa, len);
	return 0;
}

static inline int fake_write(void *o, u64 gpa, const void *buf,
			     unsigned int len)
{
	struct fake_mem *m = o;

	if (gpa + len > m->npages * 4096 || gpa + len < gpa)
		return -EFAULT;
	memcpy(m->bytes + gpa, buf, len);
	return 0;
}

static inline int fake_cmpxchg(void *o, u64 gpa, u64 old, u64 new,
			       unsigned int size)
{
	struct fake_mem *m = o;
	u64 cur = 0;

	if (gpa + size > m->npages * 4096)
		return -EFAULT;
	m->cmpxchgs++;
	if (m->fail_cmpxchg) {
		/* Another vCPU changes the entry under our feet. */
		m->fail_cmpxchg--;
		memcpy(m->bytes + gpa, &m->race_value, size);
	}
	memcpy(&cur, m->bytes + gpa, size);
	if (cur != old)
		return -EAGAIN;
	memcpy(m->bytes + gpa, &new, size);
	return 0;
}

static inline struct hyvm_gmem_ops fake_ops(struct fake_mem *m)
{
	struct hyvm_gmem_ops ops = {
		.read = fake_read, .write = fake_write,
		.cmpxchg_gpa = fake_cmpxchg, .opaque = m,
	};
	return ops;
}

static inline u64 fake_get(struct fake_mem *m, u64 gpa, unsigned int size)
{
	u64 v = 0;

	memcpy(&v, m->bytes + gpa, size);
	return v;
}

static inline void fake_set(struct fake_mem *m, u64 gpa, u64 v,
			    unsigned int size)
{
	memcpy(m->bytes + gpa, &v, size);
}

/* xorshift64*: tiny, seedable, reproducible. */
static inline u64 prng_next(u64 *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static inline u64 prng_below(u64 *s, u64 n)
{
	return prng_next(s) % n;
}

#endif /* TEST_SHADOW_FAKE_H */
