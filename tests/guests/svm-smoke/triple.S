/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Triple fault: with an IDT of limit 0, INT3 cannot be delivered (#GP),
 * nor can the #GP, nor the double fault: the CPU shuts down.
 */
#include "guest.h"
	lidt	%cs:idt
	int3
	EXIT 0x7f		/* not reached */
idt:	.word 0
	.long 0
