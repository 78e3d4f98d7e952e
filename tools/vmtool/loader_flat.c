// SPDX-License-Identifier: GPL-2.0
/*
 * Flat binaries: the bytes of the file at --load-addr, entered in real mode
 * with CS:IP = (load-addr >> 4):0 and everything else as the vCPU came out
 * of reset, as a boot sector or option ROM would be.
 */
#include <string.h>
#include "vmtool.h"

int load_flat(struct vm *vm, const struct image *img,
	      const struct load_opts *o, struct cpu_state *s)
{
	if (!guest_range_ok(vm, o->load_addr, img->size)) {
		err_msg("image '%s' (%zu bytes) does not fit in guest memory at 0x%llx",
			img->path, img->size, (unsigned long long)o->load_addr);
		return -1;
	}
	memcpy(vm->mem + o->load_addr, img->data, img->size);
	s->sregs.cs.selector = o->load_addr >> 4;
	s->sregs.cs.base = o->load_addr;
	memset(&s->regs, 0, sizeof(s->regs));
	s->regs.rflags = 2;
	return 0;
}
