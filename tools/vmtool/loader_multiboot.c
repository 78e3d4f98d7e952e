// SPDX-License-Identifier: GPL-2.0
/*
 * Multiboot (version 1) images, started the way the specification says:
 * 32-bit protected mode, paging off, flat 4G code and data segments,
 * EAX = 0x2BADB002, EBX = the multiboot information structure, interrupts
 * off.  The image is placed by its header's address fields when it sets
 * flag 16, or else by its ELF program headers.
 */
#include <string.h>
#include "vmtool.h"
#include "boot_info.h"

#define MB_HEADER_MAGIC		0x1BADB002
#define MB_BOOT_MAGIC		0x2BADB002
#define MB_SEARCH		8192	/* the header is in the first 8K */
#define MB_HEADER_VIDEO		(1U << 2)
#define MB_HEADER_REQUIRED	0x0000ffffU
#define MB_HEADER_KNOWN		0x00000007U	/* align mods, mem info, video */
#define MB_HEADER_AOUT_KLUDGE	(1U << 16)

/* struct multiboot_info flags and field offsets. */
#define MB_INFO_MEM		(1U << 0)
#define MB_INFO_CMDLINE		(1U << 2)
#define MB_INFO_MMAP		(1U << 6)
#define MB_INFO_LOADER_NAME	(1U << 9)
#define MB_INFO_SIZE		120

/* Where the loader's own data goes: under the image, over the GDT. */
#define MB_INFO			HYVM_BOOT_INFO
#define MB_MMAP			(MB_INFO + 0x100)
#define MB_LOADER_NAME		(MB_INFO + 0x200)
#define MB_CMDLINE		(MB_INFO + 0x400)
#define MB_RESERVED_END		0x3000

#define LOW_RAM_END		0x9fc00ULL	/* where the EBDA would start */
#define HIGH_RAM_START		0x100000ULL

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void put32(struct vm *vm, uint64_t gpa, uint32_t v)
{
	memcpy(vm->mem + gpa, &v, sizeof(v));
}

static void put64(struct vm *vm, uint64_t gpa, uint64_t v)
{
	memcpy(vm->mem + gpa, &v, sizeof(v));
}

bool multiboot_find_header(const struct image *img, size_t *offset)
{
	size_t off;

	for (off = 0; off + 12 <= img->size && off < MB_SEARCH; off += 4) {
		const uint8_t *h = img->data + off;

		if (get32(h) == MB_HEADER_MAGIC &&
		    get32(h) + get32(h + 4) + get32(h + 8) == 0) {
			*offset = off;
			return true;
		}
	}
	return false;
}

/* Flag 16: the header says where the file goes (the "a.out kludge"). */
static int load_by_header(struct vm *vm, const struct image *img, size_t hoff,
			  uint64_t *entry)
{
	const uint8_t *h = img->data + hoff;
	uint32_t header_addr, load_addr, load_end, bss_end;
	uint64_t file_off, len;

	if (hoff + 32 > img->size) {
		err_msg("image '%s': multiboot header is cut short", img->path);
		return -1;
	}
	header_addr = get32(h + 12);
	load_addr = get32(h + 16);
	load_end = get32(h + 20);
	bss_end = get32(h + 24);
	*entry = get32(h + 28);
	if (load_addr > header_addr || header_addr - load_addr > hoff) {
		err_msg("image '%s': multiboot load address 0x%x is not before "
			"the header", img->path, load_addr);
		return -1;
	}
	file_off = hoff - (header_addr - load_addr);
	len = load_end ? (uint64_t)load_end - load_addr : img->size - file_off;
	if (load_end && (load_end < load_addr || len > img->size - file_off)) {
		err_msg("image '%s': multiboot load_end_addr 0x%x is outside the file",
			img->path, load_end);
		return -1;
	}
	if (bss_end && bss_end < load_addr + len) {
		err_msg("image '%s': multiboot bss_end_addr 0x%x is below the end "
			"of the load", img->path, bss_end);
		return -1;
	}
	if (!guest_range_ok(vm, load_addr, (bss_end ? bss_end : load_addr + len) - load_addr)) {
		err_msg("image '%s' does not fit in guest memory at 0x%x",
			img->path, load_addr);
		return -1;
	}
	if (load_addr < MB_RESERVED_END) {
		err_msg("image '%s': multiboot images must load at or above 0x%x",
			img->path, MB_RESERVED_END);
		return -1;
	}
	memcpy(vm->mem + load_addr, img->data + file_off, len);
	if (bss_end)
		memset(vm->mem + load_addr + len, 0, bss_end - load_addr - len);
	return 0;
}

static void write_info(struct vm *vm, const struct load_opts *o)
{
	uint64_t low = vm->mem_size < LOW_RAM_END ? vm->mem_size : LOW_RAM_END;
	uint64_t mmap = MB_MMAP;
	uint32_t flags = MB_INFO_MEM | MB_INFO_MMAP | MB_INFO_LOADER_NAME;
	static const char name[] = "hyvm vmtool";

	memset(vm->mem + MB_INFO, 0, MB_RESERVED_END - MB_INFO);
	put32(vm, MB_INFO + 4, low >> 10);
	put32(vm, MB_INFO + 8, vm->mem_size > HIGH_RAM_START ?
	      (vm->mem_size - HIGH_RAM_START) >> 10 : 0);
	/* Memory map entries: size (of the rest), base, length, type. */
#define MMAP_ENTRY(base, len, type) do {		\
		put32(vm, mmap, 20);			\
		put64(vm, mmap + 4, base);		\
		put64(vm, mmap + 12, len);		\
		put32(vm, mmap + 20, type);		\
		mmap += 24;				\
	} while (0)
	MMAP_ENTRY(0, low, 1);
	if (vm->mem_size > LOW_RAM_END)
		MMAP_ENTRY(LOW_RAM_END, HIGH_RAM_START - LOW_RAM_END, 2);
	if (vm->mem_size > HIGH_RAM_START)
		MMAP_ENTRY(HIGH_RAM_START, vm->mem_size - HIGH_RAM_START, 1);
#undef MMAP_ENTRY
	put32(vm, MB_INFO + 44, mmap - MB_MMAP);
	put32(vm, MB_INFO + 48, MB_MMAP);
	memcpy(vm->mem + MB_LOADER_NAME, name, sizeof(name));
	put32(vm, MB_INFO + 64, MB_LOADER_NAME);
	if (o->cmdline) {
		memcpy(vm->mem + MB_CMDLINE, o->cmdline, strlen(o->cmdline) + 1);
		put32(vm, MB_INFO + 16, MB_CMDLINE);
		flags |= MB_INFO_CMDLINE;
	}
	put32(vm, MB_INFO, flags);
}

int load_multiboot(struct vm *vm, const struct image *img,
		   const struct load_opts *o, struct cpu_state *s)
{
	uint64_t entry, lo, hi;
	uint32_t flags;
	size_t hoff;

	if (!multiboot_find_header(img, &hoff)) {
		err_msg("image '%s' has no multiboot header in its first 8K", img->path);
		return -1;
	}
	if (vm->mem_size < MB_RESERVED_END) {
		err_msg("multiboot images need more guest memory");
		return -1;
	}
	flags = get32(img->data + hoff + 4);
	if (flags & MB_HEADER_VIDEO) {
		err_msg("image '%s' requires a video mode, which vmtool has not",
			img->path);
		return -1;
	}
	if (flags & MB_HEADER_REQUIRED & ~MB_HEADER_KNOWN) {
		err_msg("image '%s' requires multiboot features vmtool does not "
			"know (flags 0x%x)", img->path, flags);
		return -1;
	}
	if (o->cmdline && strlen(o->cmdline) >= MB_RESERVED_END - MB_CMDLINE) {
		err_msg("--cmdline is too long (at most %d bytes)",
			MB_RESERVED_END - MB_CMDLINE - 1);
		return -1;
	}
	if (flags & MB_HEADER_AOUT_KLUDGE) {
		if (load_by_header(vm, img, hoff, &entry))
			return -1;
	} else if (elf_load_segments(vm, img, MB_RESERVED_END, &entry, &lo, &hi)) {
		return -1;
	}
	if (entry >= vm->mem_size || entry > 0xffffffffULL) {
		err_msg("image '%s': entry 0x%llx is outside guest memory",
			img->path, (unsigned long long)entry);
		return -1;
	}
	boot_write_gdt(vm);
	write_info(vm, o);

	boot_segments_flat(&s->sregs, false);
	s->sregs.cr0 = 0x11;	/* PE, and ET as on every CPU since the 486 */
	s->sregs.cr3 = 0;
	s->sregs.cr4 = 0;
	s->sregs.efer = 0;
	memset(&s->regs, 0, sizeof(s->regs));
	s->regs.rflags = 2;
	s->regs.rip = entry;
	s->regs.rax = MB_BOOT_MAGIC;
	s->regs.rbx = MB_INFO;
	return 0;
}
