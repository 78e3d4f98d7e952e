# SPDX-License-Identifier: GPL-2.0
# The x86 decoder, checked against Zydis (test-only dependency), and the
# vmlinux corpus it is compared on (extracted from the host's bzImage once).
UNIT_TESTS += decode
decode_SRCS := tests/unit/test_decode.c virt/emulate/decode.c
decode_LIBS := -lZydis -lZycore

# the rules below come before the Makefile's own: keep "all" the default
.DEFAULT_GOAL := all
DECODE_BZIMAGE ?= $(firstword $(wildcard /boot/vmlinuz-$(shell uname -r)) $(wildcard /boot/vmlinuz-*))
$(BUILD)/decode: $(BUILD)/decode-vmlinux.stamp
$(BUILD)/decode-vmlinux.stamp: $(TOP)/tests/unit/decode_vmlinux.sh
	@mkdir -p $(BUILD)
	@$(TOP)/tests/unit/decode_vmlinux.sh "$(DECODE_BZIMAGE)" $(BUILD)/decode-vmlinux
	@touch $@
decode_CFLAGS := -fsanitize=undefined -fno-sanitize-recover=undefined -fno-sanitize=alignment
