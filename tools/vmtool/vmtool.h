/* SPDX-License-Identifier: GPL-2.0 */
#ifndef VMTOOL_H
#define VMTOOL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <linux/hyvm.h>

/* Exit codes: as most command-line tools. */
#define EXIT_OK		0
#define EXIT_ERR	1	/* runtime error: device, guest, I/O */
#define EXIT_USAGE	2	/* bad command line */

extern const char *prog;
extern const char *hyvm_dev_path;

void err_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int open_hyvm(void);
const char *engine_name(uint32_t engine);
int engine_from_name(const char *name);
int parse_size(const char *s, uint64_t *out);
int parse_u64(const char *s, uint64_t *out);

int cmd_caps(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_stat(int argc, char **argv);
void stat_show_own(void);

/*
 * The state of one vCPU as the loaders set it.  hyvm's register structs
 * already have the shape every backend needs, so they serve as the common
 * currency; a backend with other structs converts.
 */
struct cpu_state {
	struct hyvm_regs regs;
	struct hyvm_sregs sregs;
};

/* Why a backend stopped running the guest, in backend-neutral terms. */
enum vm_exit_kind {
	VMEXIT_IO,		/* port I/O for the devices */
	VMEXIT_MMIO,	/* an access to guest-physical space outside RAM */
	VMEXIT_HLT,	/* hlt: the run ends with status 0 */
	VMEXIT_AGAIN,	/* nothing to do (signal, host interrupt): run again */
	VMEXIT_DONE,	/* the run ends with exit status @status */
};

struct vm_exit {
	enum vm_exit_kind kind;
	int status;			/* VMEXIT_DONE */
	struct {
		bool out;
		uint8_t size;		/* 1, 2 or 4 */
		uint16_t port;
		uint32_t count;		/* string I/O repeats */
		uint8_t *data;		/* count * size bytes, in the run page */
	} io;
	struct {
		uint64_t addr;
		uint8_t *data;
		uint32_t len;
		bool write;
	} mmio;
};

struct vm;

/* A way of running guests: hyvm's /dev/hyvm, or KVM for reference. */
struct backend_ops {
	const char *name;
	/* Create the VM with guest RAM vm->mem and one vCPU. */
	int (*create)(struct vm *vm, int engine);
	/* The vCPU's state after creation (reset state), and setting it. */
	int (*get_state)(struct vm *vm, struct cpu_state *s);
	int (*set_state)(struct vm *vm, const struct cpu_state *s);
	/* Run until the next exit that vmtool must see. */
	int (*run)(struct vm *vm, struct vm_exit *exit);
	void (*destroy)(struct vm *vm);
};

extern const struct backend_ops backend_hyvm;
extern const struct backend_ops backend_kvm;
int kvm_probe(char *why, size_t len);

struct vm {
	const struct backend_ops *ops;
	void *priv;			/* the backend's own */
	const char *engine;		/* name of the engine actually used */
	uint8_t *mem;
	uint64_t mem_size;
};

/* devices.c: the devices that live in vmtool. */
int devices_io(struct vm *vm, struct vm_exit *exit);
int devices_mmio(struct vm *vm, struct vm_exit *exit);

/* Image formats and the loaders. */
enum image_format {
	FMT_AUTO,
	FMT_FLAT,
	FMT_ELF,
	FMT_MULTIBOOT,
};

struct load_opts {
	enum image_format format;
	uint64_t load_addr;		/* flat images */
	const char *cmdline;		/* ELF and multiboot; NULL for none */
};

struct image {
	const char *path;
	uint8_t *data;
	size_t size;
};

int image_format_from_name(const char *name);
const char *image_format_name(enum image_format f);
int load_image(struct vm *vm, const char *path, const struct load_opts *o,
	       struct cpu_state *s);
int load_flat(struct vm *vm, const struct image *img,
	      const struct load_opts *o, struct cpu_state *s);
int load_elf64(struct vm *vm, const struct image *img,
	       const struct load_opts *o, struct cpu_state *s);
int load_multiboot(struct vm *vm, const struct image *img,
		   const struct load_opts *o, struct cpu_state *s);
bool multiboot_find_header(const struct image *img, size_t *offset);

/* Shared by the loaders (loader.c). */
int elf_load_segments(struct vm *vm, const struct image *img,
		      uint64_t reserved_end, uint64_t *entry, uint64_t *lo,
		      uint64_t *hi);
bool guest_range_ok(const struct vm *vm, uint64_t gpa, uint64_t len);
void boot_write_gdt(struct vm *vm);
void boot_segments_flat(struct hyvm_sregs *s, bool long_mode);

#endif
