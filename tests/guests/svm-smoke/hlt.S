/* SPDX-License-Identifier: GPL-2.0 */
/* HLT with interrupts off ends the run: vmtool exits 0. */
#include "guest.h"
	cli
	PUTS msg
	hlt
	EXIT 0x7f		/* not reached */
	PUTS_FUNC
msg:	.asciz "halting\n"
