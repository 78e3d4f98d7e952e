# SPDX-License-Identifier: GPL-2.0
#
# hyvm out-of-tree build and test entry points.
#
#   make                  hyvm.ko (against KDIR) and vmtool
#   make KERNEL=test      the same against the project's test kernel
#   make C=2 W=1          with sparse and extra warnings
#   make check            every test tier (installs what it needs)
#   make demo             boots an emulated host with hyvm and shows it
#   make shell            interactive shell in an emulated host (HOST=qemu|bochs)

TOP := $(CURDIR)
BUILD := $(TOP)/build

# The installed Debian headers of the newest *-amd64 kernel, unless KDIR is
# given; KERNEL=test selects the project's test kernel (built and cached on
# first use by tests/sandbox/build-kernel.sh).
ifeq ($(origin KDIR),undefined)
ifeq ($(KERNEL),test)
KDIR := $(shell $(TOP)/tests/sandbox/build-kernel.sh)/linux-source-6.1
else
KDIR := $(lastword $(sort $(wildcard /usr/src/linux-headers-*-amd64)))
endif
endif

# Out of tree there is no Kconfig: give the symbols their defaults here.  The
# KUnit module is built only where the kernel has KUnit.
HYVM_KUNIT := $(if $(KDIR),$(shell grep -qs '^CONFIG_KUNIT=[ym]' $(KDIR)/.config && echo m))
HYVM_CONFIG := CONFIG_HYVM=m CONFIG_HYVM_BT=y CONFIG_HYVM_VMX=y CONFIG_HYVM_SVM=y \
	CONFIG_HYVM_KUNIT_TEST=$(HYVM_KUNIT)
HYVM_DEFINES := -DCONFIG_HYVM_BT=1 -DCONFIG_HYVM_VMX=1 -DCONFIG_HYVM_SVM=1 \
	$(if $(HYVM_KUNIT),-DCONFIG_HYVM_KUNIT_TEST_MODULE=1)

all: module vmtool

module:
	@test -d "$(KDIR)" || { echo "make: no kernel build dir (KDIR=$(KDIR)); install linux-headers-amd64" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(TOP) $(HYVM_CONFIG) KCPPFLAGS="$(HYVM_DEFINES)" modules

vmtool:
	$(MAKE) -C tools/vmtool

unit:
	$(MAKE) -C tests/unit

clean:
	-test -d "$(KDIR)" && $(MAKE) -C $(KDIR) M=$(TOP) clean
	$(MAKE) -C tools/vmtool clean
	rm -rf $(BUILD)

check:
	@$(TOP)/tests/check.sh

demo:
	@$(TOP)/tests/demo.sh

shell:
	@$(TOP)/tests/shell.sh $(or $(HOST),qemu) $(or $(KERNEL),stock)

.PHONY: all module vmtool unit clean check demo shell
.PHONY: bench
bench: ; @$(TOP)/bench/run $(BENCH_ARGS)
