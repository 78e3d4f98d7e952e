// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for hyvm's instruction emulator: the input gives the
 * mode, the registers and the instruction bytes; memory is a small flat
 * array with a page that faults.  The emulator must return one of its
 * results and, on a fault or "unimplemented", leave the registers alone.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I virt \
 *	tests/fuzz/emulate_emu_fuzz.c virt/emulate/emulate.c \
 *	virt/emulate/decode.c -o emu_fuzz
 */
#include <assert.h>
#include "emulate/emulate.h"

#define MEM	(1u << 16)
static u8 mem[MEM];

static int rd(struct x86_emu *e, u64 la, void *buf, unsigned int n, bool fetch)
{
	if (la >= MEM - n || (la & 0xf000) == 0x8000)
		return x86_emu_page_fault(e, la, fetch ? 0x10 : 0);
	memcpy(buf, mem + la, n);
	return X86_EMU_CB_OK;
}

static int wr(struct x86_emu *e, u64 la, const void *buf, unsigned int n)
{
	if (la >= MEM - n || (la & 0xf000) == 0x8000)
		return x86_emu_page_fault(e, la, 2);
	memcpy(mem + la, buf, n);
	return X86_EMU_CB_OK;
}

static int io_in(struct x86_emu *e, u16 port, unsigned int size, u32 *val)
{
	*val = port;
	return X86_EMU_CB_OK;
}

static int io_out(struct x86_emu *e, u16 port, unsigned int size, u32 val)
{
	return port == 0xe9 ? X86_EMU_CB_EXIT : X86_EMU_CB_OK;
}

static int msr_get(struct x86_emu *e, u32 msr, u64 *val)
{
	*val = msr * 0x10001ULL;
	return msr & 1 ? X86_EMU_CB_FAULT : X86_EMU_CB_OK;
}

static int msr_set(struct x86_emu *e, u32 msr, u64 val)
{
	return msr & 1 ? X86_EMU_CB_FAULT : X86_EMU_CB_OK;
}

static int cr_set(struct x86_emu *e, unsigned int cr, u64 val)
{
	return X86_EMU_CB_OK;
}

static const struct x86_emu_ops ops = {
	.read = rd, .write = wr, .pio_in = io_in, .pio_out = io_out,
	.get_msr = msr_get, .set_msr = msr_set, .set_cr = cr_set,
};

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct x86_emu e, before;
	enum x86_emu_result r;
	unsigned int i;

	if (size < 1 + 16 * 2 + 1)
		return 0;
	memset(&e, 0, sizeof(e));
	e.ops = &ops;
	for (i = 0; i < 6; i++) {
		e.seg[i].limit = (data[0] & 3) == 0 ? 0xffff : 0xffffffff;
		e.seg[i].attr = X86_SEG_ATTR_P | X86_SEG_ATTR_S | 3 |
				((data[0] & 3) >= 2 ? X86_SEG_ATTR_DB : 0);
	}
	e.seg[X86_SEG_CS].attr |= 8 | ((data[0] & 3) == 3 ? X86_SEG_ATTR_L : 0);
	e.cr0 = (data[0] & 3) ? X86E_CR0_PE : 0;
	e.efer = (data[0] & 3) == 3 ? X86E_EFER_LMA | X86E_EFER_SCE : 0;
	e.idtr.limit = 0x3ff;
	e.rflags = X86E_FL_FIXED | ((data[0] >> 2) & 0x3f) * 0x41;
	x86_emu_update_mode(&e);
	e.cpl = data[0] >> 7 ? 3 : 0;
	for (i = 0; i < 16; i++)
		e.gpr[i] = data[1 + 2 * i] | data[2 + 2 * i] << 8;
	e.rip = 0x1000;
	memset(mem + 0x1000, 0x90, 16);
	memcpy(mem + 0x1000, data + 33, min(size - 33, (size_t)16));
	before = e;
	r = x86_emulate(&e);
	assert(r <= X86_EMU_EXIT);
	if (r == X86_EMU_EXCEPTION)
		assert(e.exc.vector < 32);
	if ((r == X86_EMU_UNIMPLEMENTED || r == X86_EMU_EXCEPTION || r == X86_EMU_EXIT) &&
	    !(e.insn.flags & X86_F_STRING))
		assert(!memcmp(e.gpr, before.gpr, sizeof(e.gpr)) && e.rip == before.rip);
	return 0;
}
