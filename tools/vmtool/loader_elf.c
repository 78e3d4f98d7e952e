// SPDX-License-Identifier: GPL-2.0
/*
 * ELF64 images, started directly in 64-bit long mode so that a guest needs
 * no mode-switching code of its own (Documentation/vmtool.rst has the
 * contract):
 *
 *   - PT_LOAD segments at p_paddr; entry at e_entry
 *   - paging on, CR3 = identity map of RAM (up to 64 GiB) with 2M pages
 *   - the GDT of boot_info.h, CS = 64-bit code, data selectors flat, a TSS
 *   - RSP = HYVM_BOOT_STACK_TOP, RDI = &struct hyvm_boot_info
 *   - interrupts off, no IDT: the guest installs its own before faulting
 */
#include <elf.h>
#include <string.h>
#include "vmtool.h"
#include "boot_info.h"

#define PTE_P		0x1ULL
#define PTE_W		0x2ULL
#define PTE_PS		0x80ULL
#define GIB		(1ULL << 30)
#define MIB2		(2ULL << 20)

#define CR0_PE		(1ULL << 0)
#define CR0_MP		(1ULL << 1)
#define CR0_ET		(1ULL << 4)
#define CR0_NE		(1ULL << 5)
#define CR0_WP		(1ULL << 16)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)

static void put64(struct vm *vm, uint64_t gpa, uint64_t v)
{
	memcpy(vm->mem + gpa, &v, sizeof(v));
}

/* Identity map [0, end) with 2M pages; returns where the map ends. */
static uint64_t build_identity_map(struct vm *vm)
{
	uint64_t end = (vm->mem_size + MIB2 - 1) & ~(MIB2 - 1);
	uint64_t pds, i, gpa;

	if (end > HYVM_BOOT_MAX_PD * GIB)
		end = HYVM_BOOT_MAX_PD * GIB;
	pds = (end + GIB - 1) / GIB;
	memset(vm->mem + HYVM_BOOT_PML4, 0, 0x2000 + pds * 0x1000);
	put64(vm, HYVM_BOOT_PML4, HYVM_BOOT_PDPT | PTE_P | PTE_W);
	for (i = 0; i < pds; i++)
		put64(vm, HYVM_BOOT_PDPT + i * 8,
		      (HYVM_BOOT_PD + i * 0x1000) | PTE_P | PTE_W);
	for (gpa = 0; gpa < end; gpa += MIB2)
		put64(vm, HYVM_BOOT_PD + gpa / MIB2 * 8, gpa | PTE_P | PTE_W | PTE_PS);
	return end;
}

int load_elf64(struct vm *vm, const struct image *img,
	       const struct load_opts *o, struct cpu_state *s)
{
	struct hyvm_boot_info bi = { 0 };
	uint64_t entry, lo, hi, info_end;
	size_t len;

	if (vm->mem_size < 2 * MIB2) {
		err_msg("ELF images need at least 4M of guest memory");
		return -1;
	}
	if (img->size > EI_CLASS && !memcmp(img->data, ELFMAG, SELFMAG) &&
	    img->data[EI_CLASS] == ELFCLASS32) {
		err_msg("image '%s' is a 32-bit ELF file: only x86-64 ones start "
			"in long mode (32-bit kernels need a multiboot header)", img->path);
		return -1;
	}
	if (elf_load_segments(vm, img, HYVM_BOOT_RESERVED_END, &entry, &lo, &hi))
		return -1;
	if (entry >= hi || entry < lo) {
		err_msg("image '%s': entry 0x%llx is not in a loaded segment",
			img->path, (unsigned long long)entry);
		return -1;
	}
	boot_write_gdt(vm);

	bi.magic = HYVM_BOOT_MAGIC;
	bi.version = HYVM_BOOT_VERSION;
	bi.mem_size = vm->mem_size;
	bi.mapped_end = build_identity_map(vm);
	bi.image_start = lo;
	bi.image_end = hi;
	info_end = HYVM_BOOT_INFO + sizeof(bi);
	if (o->cmdline) {
		len = strlen(o->cmdline) + 1;
		if (len > HYVM_BOOT_PML4 - info_end) {
			err_msg("--cmdline is too long (at most %llu bytes)",
				(unsigned long long)(HYVM_BOOT_PML4 - info_end - 1));
			return -1;
		}
		memcpy(vm->mem + info_end, o->cmdline, len);
		bi.cmdline = info_end;
	}
	bi.free_start = (hi > HYVM_BOOT_RESERVED_END ? hi : HYVM_BOOT_RESERVED_END);
	bi.free_start = (bi.free_start + 0xfff) & ~0xfffULL;
	strncpy(bi.engine, vm->engine, sizeof(bi.engine) - 1);
	memcpy(vm->mem + HYVM_BOOT_INFO, &bi, sizeof(bi));

	boot_segments_flat(&s->sregs, true);
	s->sregs.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
	s->sregs.cr3 = HYVM_BOOT_PML4;
	s->sregs.cr4 = CR4_PAE;
	s->sregs.efer = EFER_LME | EFER_LMA;
	memset(&s->regs, 0, sizeof(s->regs));
	s->regs.rflags = 2;
	s->regs.rip = entry;
	s->regs.rsp = HYVM_BOOT_STACK_TOP;
	s->regs.rdi = HYVM_BOOT_INFO;
	return 0;
}
