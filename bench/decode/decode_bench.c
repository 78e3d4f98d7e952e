// SPDX-License-Identifier: GPL-2.0
/*
 * Decode throughput of hyvm's x86 decoder beside Zydis, on the largest code
 * section of each ELF file given: instructions per second of a linear
 * sweep, best of five, and their ratio.  Both decode the instruction only
 * (Zydis without operands), which is what hyvm's decoder computes.
 *
 *   decode_bench FILE...      one line per file, then the ratio overall
 */
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <Zydis/Zydis.h>
#include "emulate/decode.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int bench(const char *path, double *hyvm_rate, double *zydis_rate)
{
	const Elf64_Shdr *sh, *best = NULL;
	ZydisDecodedInstruction z;
	ZydisDecoder zd;
	struct x86_insn h;
	double th = 1e9, tz = 1e9, t;
	unsigned long nh = 0, nz = 0;
	const Elf64_Ehdr *eh;
	struct stat st;
	const u8 *p;
	size_t off, n;
	void *map;
	int fd, i, pass;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st)) {
		perror(path);
		return -1;
	}
	map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return -1;
	eh = map;
	sh = (const void *)((const u8 *)map + eh->e_shoff);
	for (i = 0; i < eh->e_shnum; i++)
		if ((sh[i].sh_flags & SHF_EXECINSTR) && sh[i].sh_type == SHT_PROGBITS &&
		    (!best || sh[i].sh_size > best->sh_size))
			best = &sh[i];
	if (!best) {
		fprintf(stderr, "%s: no code section\n", path);
		munmap(map, st.st_size);
		return -1;
	}
	ZydisDecoderInit(&zd, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
	ZydisDecoderEnableMode(&zd, ZYDIS_DECODER_MODE_MINIMAL, ZYAN_TRUE);
	p = (const u8 *)map + best->sh_offset;
	n = best->sh_size;
	for (pass = 0; pass < 5; pass++) {
		nh = nz = 0;
		t = now();
		for (off = 0; off < n; nh++)
			off += x86_decode(&h, p + off, n - off, X86_MODE_LONG64) ==
			       X86_DECODE_OK ? h.len : 1;
		t = now() - t;
		th = t < th ? t : th;
		t = now();
		for (off = 0; off < n; nz++)
			off += ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&zd, NULL, p + off,
									  n - off, &z)) ?
			       z.length : 1;
		t = now() - t;
		tz = t < tz ? t : tz;
	}
	*hyvm_rate = nh / th;
	*zydis_rate = nz / tz;
	printf("| %s | %zu | %lu | %.1f | %.1f | %.2f |\n", path, n, nh,
	       *hyvm_rate / 1e6, *zydis_rate / 1e6, *hyvm_rate / *zydis_rate);
	munmap(map, st.st_size);
	return 0;
}

int main(int argc, char **argv)
{
	double h, z, sh = 0, sz = 0;
	int i, done = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s ELF-FILE...\n", argv[0]);
		return 2;
	}
	printf("| file | code bytes | instructions | hyvm M insn/s | Zydis M insn/s | hyvm/Zydis |\n");
	printf("|---|---|---|---|---|---|\n");
	for (i = 1; i < argc; i++)
		if (!bench(argv[i], &h, &z)) {
			sh += h;
			sz += z;
			done++;
		}
	if (!done)
		return 1;
	printf("\nmean throughput ratio hyvm/Zydis: %.2f\n", sh / sz);
	return 0;
}
