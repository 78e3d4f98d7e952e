// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for hyvm's x86 decoder: the first byte picks the mode,
 * the rest is decoded.  Checks the decoder's own invariants (length within
 * the buffer and 15 bytes, fields inside the instruction) so that the
 * sanitizers and these asserts catch bugs.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I virt \
 *	tests/fuzz/emulate_decode_fuzz.c virt/emulate/decode.c -o decode_fuzz
 */
#include <assert.h>
#include "emulate/decode.h"

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct x86_insn insn;
	enum x86_decode_status st;

	if (size < 1)
		return 0;
	st = x86_decode(&insn, data + 1, size - 1, data[0] & 3);
	if (st != X86_DECODE_OK)
		return 0;
	assert(insn.len >= 1 && insn.len <= X86_MAX_INSN_LEN && insn.len <= size - 1);
	assert(!insn.disp_size || insn.disp_offset + insn.disp_size <= insn.len);
	assert(!insn.imm_size || insn.imm_offset + insn.imm_size <= insn.len);
	assert(insn.opcode_offset < insn.len);
	assert(insn.opsize == 1 || insn.opsize == 2 || insn.opsize == 4 ||
	       insn.opsize == 8 || insn.opsize == 16);
	assert(insn.adsize == 2 || insn.adsize == 4 || insn.adsize == 8);
	if (insn.flags & X86_F_RIPREL)
		assert(insn.mode == X86_MODE_LONG64 && insn.disp_size == 4);
	/* decoding is a function of the bytes it consumed */
	{
		struct x86_insn again;

		assert(x86_decode(&again, data + 1, insn.len, data[0] & 3) == X86_DECODE_OK);
		assert(again.len == insn.len);
	}
	return 0;
}
