/* SPDX-License-Identifier: GPL-2.0 */
/* Prints "hello" on COM1 and exits with 0x2a: status 85. */
#include "guest.h"
	PUTS msg
	EXIT 0x2a
	PUTS_FUNC
msg:	.asciz "hello\n"
