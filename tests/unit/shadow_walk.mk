# SPDX-License-Identifier: GPL-2.0
# Shadow MMU: the guest page-table walker against the hardware rules table.
UNIT_TESTS += shadow_walk
shadow_walk_SRCS := tests/unit/test_shadow_walk.c virt/shadow/walk.c
shadow_walk_CFLAGS := -Wno-missing-field-initializers
