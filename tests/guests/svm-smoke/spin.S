/* SPDX-License-Identifier: GPL-2.0 */
/* Spins forever with interrupts off: only a signal to vmtool ends it. */
#include "guest.h"
	cli
1:	jmp	1b
