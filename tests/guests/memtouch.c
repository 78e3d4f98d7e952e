// SPDX-License-Identifier: GPL-2.0
/*
 * A guest whose working set is all of its memory: one word in every 2 MiB
 * of RAM is written, then all are read back.  Under shadow paging every
 * 2 MiB page of the identity map needs shadow tables of its own, so with
 * enough RAM (vmtool --mem 512M) this overruns a small shadow cap and
 * makes the shadow MMU reclaim while the guest runs; the guest must not
 * notice.  With --cmdline loop it goes on until it is killed, for tests
 * that read counters while it runs.
 */
#include "runtime.h"

const char guest_name[] = "memtouch";

#define SZ_2M		0x200000ULL
/* Near the end of each 2 MiB page: clear of the allocator's first pages. */
#define WORD_OFF	(SZ_2M - 0x800)

static uint64_t pattern(uint64_t pa)
{
	return pa * 0x9e3779b97f4a7c15ULL ^ 0x6879766dULL;
}

void guest_main(const struct hyvm_boot_info *bi)
{
	uint64_t end = bi->mapped_end < bi->mem_size ? bi->mapped_end :
						      bi->mem_size;
	uint64_t start = ((bi->image_end + SZ_2M - 1) & ~(SZ_2M - 1)) + SZ_2M;
	const char *c = (const char *)bi->cmdline;
	bool loop = c && c[0] == 'l' && c[1] == 'o' && c[2] == 'o' && c[3] == 'p';
	uint64_t pa, n = 0, bad = 0;
	int pass;

	for (pass = 0; pass < 2 || loop; pass++) {
		for (pa = start; pa + SZ_2M <= end; pa += SZ_2M)
			*(volatile uint64_t *)(pa + WORD_OFF) = pattern(pa);
		for (pa = start; pa + SZ_2M <= end; pa += SZ_2M) {
			if (*(volatile uint64_t *)(pa + WORD_OFF) != pattern(pa))
				bad++;
			n++;
		}
	}
	rt_printf("memtouch: %lu regions of 2 MiB checked twice\n", n / 2);
	CHECK(n >= 2, "at least one 2 MiB region above the image (%lu)", n);
	CHECK(!bad, "every word read back as written (%lu wrong)", bad);
}
