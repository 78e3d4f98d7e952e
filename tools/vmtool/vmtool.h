/* SPDX-License-Identifier: GPL-2.0 */
#ifndef VMTOOL_H
#define VMTOOL_H

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

#endif
