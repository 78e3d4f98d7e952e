# SPDX-License-Identifier: GPL-2.0
# The instruction emulator, checked against the host CPU and in scenarios.
UNIT_TESTS += emulate
emulate_SRCS := tests/unit/test_emulate.c virt/emulate/emulate.c virt/emulate/decode.c
emulate_CFLAGS := -Wno-missing-field-initializers -fsanitize=undefined -fno-sanitize-recover=undefined -fno-sanitize=alignment
