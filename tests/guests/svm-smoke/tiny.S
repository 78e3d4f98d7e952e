/* SPDX-License-Identifier: GPL-2.0 */
/* The smallest guest: exit status (0 << 1) | 1 = 1. */
#include "guest.h"
	EXIT 0
