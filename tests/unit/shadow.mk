# SPDX-License-Identifier: GPL-2.0
# Shadow MMU: model-based tests of the shadow tables against the walker.
UNIT_TESTS += shadow
shadow_SRCS := tests/unit/test_shadow.c virt/shadow/walk.c virt/shadow/mmu.c \
	virt/shadow/rmap.c virt/shadow/code_wp.c
shadow_CFLAGS := -Wno-missing-field-initializers
