# SPDX-License-Identifier: GPL-2.0
# The binary translator: CCFs run natively at CPL3 in the test process,
# checked against the interpreter (virt/emulate).  x86-64 hosts only.
UNIT_TESTS += translate
translate_SRCS := tests/unit/test_translate.c tests/unit/translate_harness.S \
	tests/unit/translate_guests.S virt/bt/translate.c virt/bt/tc.c \
	virt/bt/emit.c virt/emulate/emulate.c virt/emulate/decode.c
translate_CFLAGS := -Wno-missing-field-initializers -D_GNU_SOURCE
