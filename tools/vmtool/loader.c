// SPDX-License-Identifier: GPL-2.0
/*
 * Loading a guest image: read the file, tell its format from its contents
 * (or --format), and hand it to the loader for that format, which puts it
 * in guest memory and sets the vCPU's initial state.  Helpers shared by the
 * loaders live here too.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "vmtool.h"
#include "boot_info.h"

static const char *const format_names[] = {
	[FMT_AUTO] = "auto",
	[FMT_FLAT] = "flat",
	[FMT_ELF] = "elf",
	[FMT_MULTIBOOT] = "multiboot",
};

int image_format_from_name(const char *name)
{
	unsigned int i;

	for (i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++)
		if (!strcmp(name, format_names[i]))
			return i;
	return -1;
}

const char *image_format_name(enum image_format f)
{
	return format_names[f];
}

bool guest_range_ok(const struct vm *vm, uint64_t gpa, uint64_t len)
{
	return gpa <= vm->mem_size && len <= vm->mem_size - gpa;
}

static int read_image(struct image *img, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t off = 0;
	ssize_t got;

	img->path = path;
	if (fd < 0) {
		err_msg("cannot open image '%s': %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		err_msg("image '%s' is not a regular file", path);
		close(fd);
		return -1;
	}
	img->size = st.st_size;
	img->data = malloc(img->size ? img->size : 1);
	if (!img->data) {
		err_msg("image '%s' is too big to read (%zu bytes)", path, img->size);
		close(fd);
		return -1;
	}
	while (off < img->size) {
		got = read(fd, img->data + off, img->size - off);
		if (got <= 0) {
			err_msg("reading image '%s': %s", path,
				got ? strerror(errno) : "short read");
			close(fd);
			return -1;
		}
		off += got;
	}
	close(fd);
	return 0;
}

/*
 * A multiboot header wins, as with other multiboot loaders: a kernel may
 * be an ELF file and still ask to be started the multiboot way.  Then an
 * ELF64 file is started in long mode, and anything else is a flat binary.
 */
static enum image_format detect_format(const struct image *img)
{
	size_t off;

	if (multiboot_find_header(img, &off))
		return FMT_MULTIBOOT;
	if (img->size >= SELFMAG && !memcmp(img->data, ELFMAG, SELFMAG))
		return FMT_ELF;
	return FMT_FLAT;
}

int load_image(struct vm *vm, const char *path, const struct load_opts *o,
	       struct cpu_state *s)
{
	struct image img = { 0 };
	enum image_format f;
	int ret = -1;

	if (read_image(&img, path))
		goto out;
	f = o->format == FMT_AUTO ? detect_format(&img) : o->format;
	switch (f) {
	case FMT_FLAT:
		ret = load_flat(vm, &img, o, s);
		break;
	case FMT_ELF:
		ret = load_elf64(vm, &img, o, s);
		break;
	case FMT_MULTIBOOT:
		ret = load_multiboot(vm, &img, o, s);
		break;
	default:
		break;
	}
out:
	free(img.data);
	return ret;
}

/*
 * Loads the PT_LOAD segments of an ELF32 or ELF64 file at their physical
 * addresses (p_paddr: where a boot loader puts them), zeroing what the file
 * does not fill; none may overlap vmtool's boot data, [0x1000, reserved_end).
 * Returns the entry point and the extent of what it loaded.
 */
int elf_load_segments(struct vm *vm, const struct image *img,
		      uint64_t reserved_end, uint64_t *entry, uint64_t *lo,
		      uint64_t *hi)
{
	const uint8_t *d = img->data;
	bool is64;
	uint64_t phoff, i, n, phentsize;

	if (img->size < EI_NIDENT || memcmp(d, ELFMAG, SELFMAG)) {
		err_msg("image '%s' is not an ELF file", img->path);
		return -1;
	}
	is64 = d[EI_CLASS] == ELFCLASS64;
	if ((!is64 && d[EI_CLASS] != ELFCLASS32) || d[EI_DATA] != ELFDATA2LSB ||
	    img->size < (is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr))) {
		err_msg("image '%s' is not a little-endian ELF32/ELF64 file", img->path);
		return -1;
	}
	if (is64) {
		const Elf64_Ehdr *eh = (const void *)d;

		if (eh->e_machine != EM_X86_64 || eh->e_type != ET_EXEC) {
			err_msg("image '%s' is not an x86-64 executable", img->path);
			return -1;
		}
		*entry = eh->e_entry;
		phoff = eh->e_phoff;
		n = eh->e_phnum;
		phentsize = eh->e_phentsize;
		if (phentsize < sizeof(Elf64_Phdr))
			goto bad;
	} else {
		const Elf32_Ehdr *eh = (const void *)d;

		if (eh->e_machine != EM_386 || eh->e_type != ET_EXEC) {
			err_msg("image '%s' is not an i386 executable", img->path);
			return -1;
		}
		*entry = eh->e_entry;
		phoff = eh->e_phoff;
		n = eh->e_phnum;
		phentsize = eh->e_phentsize;
		if (phentsize < sizeof(Elf32_Phdr))
			goto bad;
	}
	if (phoff > img->size || n > (img->size - phoff) / phentsize)
		goto bad;
	*lo = UINT64_MAX;
	*hi = 0;
	for (i = 0; i < n; i++) {
		const uint8_t *ph = d + phoff + i * phentsize;
		uint64_t type, off, pa, filesz, memsz;

		if (is64) {
			const Elf64_Phdr *p = (const void *)ph;

			type = p->p_type, off = p->p_offset, pa = p->p_paddr;
			filesz = p->p_filesz, memsz = p->p_memsz;
		} else {
			const Elf32_Phdr *p = (const void *)ph;

			type = p->p_type, off = p->p_offset, pa = p->p_paddr;
			filesz = p->p_filesz, memsz = p->p_memsz;
		}
		if (type != PT_LOAD || !memsz)
			continue;
		if (filesz > memsz || off > img->size || filesz > img->size - off)
			goto bad;
		if (!guest_range_ok(vm, pa, memsz)) {
			err_msg("image '%s': segment at 0x%llx (0x%llx bytes) is "
				"outside guest memory", img->path,
				(unsigned long long)pa, (unsigned long long)memsz);
			return -1;
		}
		if (pa < reserved_end && pa + memsz > HYVM_BOOT_GDT) {
			err_msg("image '%s': segment at 0x%llx overlaps vmtool's boot "
				"data [0x%x, 0x%llx)", img->path, (unsigned long long)pa,
				HYVM_BOOT_GDT, (unsigned long long)reserved_end);
			return -1;
		}
		memcpy(vm->mem + pa, d + off, filesz);
		memset(vm->mem + pa + filesz, 0, memsz - filesz);
		if (pa < *lo)
			*lo = pa;
		if (pa + memsz > *hi)
			*hi = pa + memsz;
	}
	if (*hi == 0) {
		err_msg("image '%s' has nothing to load", img->path);
		return -1;
	}
	return 0;
bad:
	err_msg("image '%s': malformed ELF program headers", img->path);
	return -1;
}

static void put_desc(uint8_t *gdt, unsigned int sel, uint32_t base,
		     uint32_t limit, uint8_t access, uint8_t flags)
{
	uint8_t *p = gdt + sel;

	p[0] = limit;
	p[1] = limit >> 8;
	p[2] = base;
	p[3] = base >> 8;
	p[4] = base >> 16;
	p[5] = access;
	p[6] = (flags << 4) | ((limit >> 16) & 0xf);
	p[7] = base >> 24;
}

/*
 * The GDT both protected-mode starts use, with descriptors matching the
 * hidden segment state boot_segments_flat() sets, so that a guest that
 * reloads a selector before building its own GDT gets what it had.
 */
void boot_write_gdt(struct vm *vm)
{
	uint8_t *gdt = vm->mem + HYVM_BOOT_GDT;

	memset(gdt, 0, HYVM_BOOT_GDT_SIZE);
	memset(vm->mem + HYVM_BOOT_TSS, 0, 0x68);
	/* flags: G=8, D/B=4, L=2; access: P|S|type, accessed. */
	put_desc(gdt, HYVM_BOOT_CS64, 0, 0xfffff, 0x9b, 0xa);
	put_desc(gdt, HYVM_BOOT_DS, 0, 0xfffff, 0x93, 0xc);
	put_desc(gdt, HYVM_BOOT_CS32, 0, 0xfffff, 0x9b, 0xc);
	/* Busy TSS (type 0xb); the upper half of a 64-bit one is zero. */
	put_desc(gdt, HYVM_BOOT_TR, HYVM_BOOT_TSS, 0x67, 0x8b, 0);
}

static void seg(struct hyvm_segment *s, uint16_t sel, uint8_t type, bool code64)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->limit = 0xffffffff;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = code64;
	s->db = !code64;
}

void boot_segments_flat(struct hyvm_sregs *s, bool long_mode)
{
	if (long_mode)
		seg(&s->cs, HYVM_BOOT_CS64, 0xb, true);
	else
		seg(&s->cs, HYVM_BOOT_CS32, 0xb, false);
	seg(&s->ds, HYVM_BOOT_DS, 0x3, false);
	s->es = s->fs = s->gs = s->ss = s->ds;
	memset(&s->tr, 0, sizeof(s->tr));
	s->tr.selector = HYVM_BOOT_TR;
	s->tr.base = HYVM_BOOT_TSS;
	s->tr.limit = 0x67;
	s->tr.type = 0xb;
	s->tr.present = 1;
	s->gdt.base = HYVM_BOOT_GDT;
	s->gdt.limit = HYVM_BOOT_GDT_SIZE - 1;
	s->idt.base = 0;
	s->idt.limit = 0;
}
