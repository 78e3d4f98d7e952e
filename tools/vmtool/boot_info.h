/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The boot protocol of vmtool for ELF64 images, which start in 64-bit long
 * mode (Documentation/vmtool.rst describes the whole initial state).  This
 * header is shared with the guests (tests/guests), so it uses only fixed-size
 * types and no libc.
 */
#ifndef HYVM_BOOT_INFO_H
#define HYVM_BOOT_INFO_H

#define HYVM_BOOT_MAGIC		0x4d565948	/* "HYVM" in memory */
#define HYVM_BOOT_VERSION	1

/* Guest-physical layout that vmtool sets up below the image. */
#define HYVM_BOOT_GDT		0x1000	/* GDT; the TSS follows at +0x80 */
#define HYVM_BOOT_TSS		0x1080
#define HYVM_BOOT_INFO		0x2000	/* struct hyvm_boot_info, then cmdline */
#define HYVM_BOOT_PML4		0x3000	/* CR3 */
#define HYVM_BOOT_PDPT		0x4000
#define HYVM_BOOT_PD		0x5000	/* one page per GiB mapped */
#define HYVM_BOOT_MAX_PD	64	/* so at most 64 GiB are mapped */
#define HYVM_BOOT_STACK_TOP	0x80000	/* initial RSP */
#define HYVM_BOOT_RESERVED_END	0x80000	/* images may not overlap [0x1000, this) */

/* GDT selectors, the same for ELF64 and multiboot starts. */
#define HYVM_BOOT_CS64		0x08
#define HYVM_BOOT_DS		0x10
#define HYVM_BOOT_CS32		0x18
#define HYVM_BOOT_TR		0x20	/* 16-byte 64-bit TSS descriptor */
#define HYVM_BOOT_GDT_SIZE	0x30

/* RDI holds its guest-physical (= virtual) address at entry. */
struct hyvm_boot_info {
	unsigned int magic;		/* HYVM_BOOT_MAGIC */
	unsigned int version;		/* HYVM_BOOT_VERSION */
	unsigned long long mem_size;	/* RAM is [0, mem_size) */
	unsigned long long mapped_end;	/* [0, mapped_end) is identity mapped */
	unsigned long long image_start;	/* lowest byte of the loaded segments */
	unsigned long long image_end;	/* end of the loaded segments (bss incl.) */
	unsigned long long free_start;	/* first free page above image and boot data */
	unsigned long long cmdline;	/* NUL-terminated string, 0 when none */
	char engine[16];		/* "kvm", "svm", ...: who runs the guest */
};

#endif
