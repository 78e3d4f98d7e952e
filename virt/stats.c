// SPDX-License-Identifier: GPL-2.0
/*
 * Names of the counters and exit reasons, as debugfs and the tracepoints
 * print them.
 */
#include "hyvm.h"

const char *const hyvm_exit_reason_names[HYVM_EXIT_REASON_MAX] = {
	[HYVM_EXIT_NONE]	 = "none",
	[HYVM_EXIT_IO]		 = "io",
	[HYVM_EXIT_MMIO]	 = "mmio",
	[HYVM_EXIT_HLT]		 = "hlt",
	[HYVM_EXIT_SHUTDOWN]	 = "shutdown",
	[HYVM_EXIT_INTR]	 = "intr",
	[HYVM_EXIT_FAIL_ENTRY]	 = "fail_entry",
	[HYVM_EXIT_INTERNAL]	 = "internal",
	[HYVM_EXIT_DEBUG]	 = "debug",
	[HYVM_EXIT_SYSTEM_EVENT] = "system_event",
};
