# nvwa: kernel updates in seconds, applications kept.
#
#   make            build the nvwa command and the test application
#   make check      install what is missing, build, run every test
#   make demo       install what is missing, boot the test VM, run a real
#                   `nvwa update --app` across kexec, print the report
#   make install    PREFIX=/usr/local DESTDIR= honoured
#   make deb        the Debian packages nvwa and nvwa-pinmem-dkms, in $(O)/deb
#   make kernel     the nvwa kernel: Debian's linux-source-6.1 with every
#                   component's patch series (README, "The nvwa kernel")
#
# Everything is built under build/ (O=dir to change); big downloaded
# artifacts are cached under $(NVWA_CACHE), keyed by content.

O ?= build
# The one statement of nvwa's version; `make deb NVWA_VERSION=X.Y.Z` builds
# another (an upgrade to test).
NVWA_VERSION := $(shell cat VERSION)
CC ?= cc
PREFIX ?= /usr/local
DESTDIR ?=
# Units and generators; Debian 12's packages keep them in /lib/systemd.
SYSTEMDDIR ?= $(PREFIX)/lib/systemd
# Where CRIU looks for plugins whatever PREFIX is (criu -L's default).
CRIU_PLUGIN_DIR ?= /usr/lib/criu
NVWA_CACHE ?= $(HOME)/.cache/nvwa
export NVWA_CACHE

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2
CFLAGS ?= -O2 -g
override CFLAGS += -std=gnu11 $(WARN) -D_GNU_SOURCE -I. -I$(O)
LDLIBS := -lfdt -lz -llzma -lzstd -llz4 -lnettle -ljson-c -lnftables -lelf
NVWA_LDLIBS := $(LDLIBS) -lbpf

COMMON_SRC := common/log.c common/tsc.c common/timeline.c common/handover.c \
	      common/util.c common/fault.c
FASTBOOT_SRC := fastboot/bzimage.c fastboot/cmdline.c fastboot/kexec.c fastboot/caps.c \
		fastboot/decompress.c fastboot/prepare.c fastboot/fwmap.c \
		fastboot/initrd.c fastboot/quick.c
CRIU_SRC := criu-plugin/pinimg.c
PARK_SRC := park/defer.c park/parked.c
PINMEM_SRC := pinmem/lib/libpinmem.c pinmem/module/format.c
NVWA_SRC := tools/nvwa/main.c tools/nvwa/update.c tools/nvwa/restore.c \
	    tools/nvwa/status.c tools/nvwa/report.c tools/nvwa/store_cmd.c \
	    tools/nvwa/handover_cmd.c tools/nvwa/render.c tools/nvwa/kmsg.c \
	    tools/nvwa/prepare_cmd.c tools/nvwa/pinmem_cmd.c tools/nvwa/checkpoint.c \
	    tools/nvwa/unit_cmd.c \
	    bpf/shutdown.c bpf/firstrun.c
# eBPF programs: CO-RE objects, and skeletons bpftool makes of them.
BPF_PROGS := shutdown firstrun
BPFTOOL ?= bpftool
BPF_CLANG ?= clang
BPF_ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
# Parts of the nvwa command that unit tests link too.
TOOL_LIB_SRC := tools/nvwa/compare.c tools/nvwa/html.c tools/nvwa/store.c \
		tools/nvwa/state.c tools/nvwa/record.c \
		tools/nvwa/bootlog.c tools/nvwa/json.c tools/nvwa/unit.c \
		tools/nvwa/criu.c tools/nvwa/quiesce.c tools/nvwa/sdboot.c \
		tools/nvwa/netsock.c tools/nvwa/keep.c
# The shutdown probes' buffer decoder, without the loader (no libbpf).
BPF_LIB_SRC := bpf/probebuf.c
LIB_SRC := $(COMMON_SRC) $(BPF_LIB_SRC) $(FASTBOOT_SRC) $(PARK_SRC) $(CRIU_SRC) $(PINMEM_SRC) $(TOOL_LIB_SRC)

UNIT_TESTS := park_test write_test store_test state_test pinmem_test pinimg_test probebuf_test \
	      handover_test cmdline_test timeline_test bzimage_test decompress_test \
	      kexec_test compare_test html_test bootlog_test json_test util_test \
	      service_test criu_test fwmap_test quiesce_test sdboot_test \
	      netsock_test keep_test initrd_test quick_test
FUZZERS := pinmem_fuzz pinimg_fuzz probebuf_fuzz handover_fuzz cmdline_fuzz bzimage_fuzz decompress_fuzz \
	   bootlog_fuzz record_fuzz initrd_fuzz held_fuzz keeplist_fuzz

all: $(O)/nvwa $(O)/nvwa_pinmem.so $(O)/nvwa-testapp $(O)/nvwa-clock \
     $(O)/nvwa-pattern $(O)/nvwa-pinmem-check $(O)/nvwa-pinmem-stress $(O)/nvwa-tcpecho \
     $(O)/nvwa-stamp $(O)/nvwa-fault $(O)/nvwa-memtouch $(O)/nvwa-kexec-seg

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

# `nvwa --version`: main.o is rebuilt when the version changes.
$(O)/version: FORCE
	@mkdir -p $(O)
	@echo '$(NVWA_VERSION)' | cmp -s - $@ || echo '$(NVWA_VERSION)' > $@
$(O)/tools/nvwa/main.o $(O)/fault/tools/nvwa/main.o: $(O)/version
$(O)/tools/nvwa/main.o $(O)/fault/tools/nvwa/main.o: \
	override CFLAGS += -DNVWA_VERSION='"$(NVWA_VERSION)"'

$(O)/nvwa: $(patsubst %.c,$(O)/%.o,$(NVWA_SRC) $(LIB_SRC))
	$(CC) $(LDFLAGS) -o $@ $^ $(NVWA_LDLIBS)

# The test build: the same command with fault points (common/fault.h),
# for the failures a test cannot cause from outside.  Never installed.
$(O)/fault/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -DNVWA_FAULTS -MMD -MP -c -o $@ $<

$(O)/fault/bpf/shutdown.o: $(O)/bpf/shutdown.skel.h
$(O)/fault/bpf/firstrun.o: $(O)/bpf/firstrun.skel.h

$(O)/nvwa-fault: $(patsubst %.c,$(O)/fault/%.o,$(NVWA_SRC) $(LIB_SRC))
	$(CC) $(LDFLAGS) -o $@ $^ $(NVWA_LDLIBS)

$(O)/bpf/%.bpf.o: bpf/%.bpf.c bpf/%.h bpf/kernel.h
	@mkdir -p $(dir $@)
	$(BPF_CLANG) -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(BPF_ARCH) \
		-I/usr/include/$(shell uname -m)-linux-gnu -I. -c -o $@ $<

$(O)/bpf/%.skel.h: $(O)/bpf/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $* > $@.tmp && mv $@.tmp $@

# The loaders include their skeletons (-I$(O): "bpf/NAME.skel.h").
$(O)/bpf/shutdown.o: $(O)/bpf/shutdown.skel.h
$(O)/bpf/firstrun.o: $(O)/bpf/firstrun.skel.h

# The CRIU plugin: position-independent objects of its own, one symbol out.
PLUGIN_SRC := criu-plugin/pinmem_plugin.c criu-plugin/pinimg.c common/util.c $(PINMEM_SRC)
$(O)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -MMD -MP -c -o $@ $<

$(O)/nvwa_pinmem.so: $(patsubst %.c,$(O)/pic/%.o,$(PLUGIN_SRC)) criu-plugin/plugin.map
	$(CC) $(LDFLAGS) -shared -Wl,--version-script=criu-plugin/plugin.map -o $@ \
		$(filter %.o,$^) -lz

$(O)/nvwa-testapp: $(O)/tests/vm/testapp.o $(O)/pinmem/lib/libpinmem.o
	$(CC) $(LDFLAGS) -pthread -o $@ $^

$(O)/nvwa-clock: $(O)/tests/vm/clock.o $(O)/common/tsc.o
	$(CC) $(LDFLAGS) -o $@ $^

$(O)/nvwa-stamp: $(O)/tests/vm/stamp.o
	$(CC) $(LDFLAGS) -o $@ $^

$(O)/nvwa-pattern: $(O)/tests/vm/pattern.o
	$(CC) $(LDFLAGS) -o $@ $^

$(O)/nvwa-memtouch: $(O)/tests/vm/memtouch.o
	$(CC) $(LDFLAGS) -o $@ $^

$(O)/nvwa-kexec-seg: $(O)/tests/vm/kexec_seg.o
	$(CC) $(LDFLAGS) -o $@ $^

$(O)/nvwa-tcpecho: $(O)/tests/vm/tcpecho.o
	$(CC) $(LDFLAGS) -o $@ $^

$(O)/nvwa-pinmem-check: $(O)/tests/vm/pinmem_check.o $(O)/pinmem/lib/libpinmem.o
	$(CC) $(LDFLAGS) -o $@ $^

$(O)/nvwa-pinmem-stress: $(O)/tests/vm/pinmem_stress.o $(O)/pinmem/lib/libpinmem.o
	$(CC) $(LDFLAGS) -o $@ $^

# Unit tests run under ASan and UBSan, built apart from the product.
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
$(O)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN) -MMD -MP -c -o $@ $<

$(O)/tests/%_test: $(O)/san/tests/unit/%_test.o $(patsubst %.c,$(O)/san/%.o,$(LIB_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(SAN) $(LDFLAGS) -o $@ $^ $(LDLIBS) -pthread

unit: $(addprefix $(O)/tests/,$(UNIT_TESTS))

# Fuzz targets need clang's libFuzzer whatever CC is.
FUZZ_CC := clang
FUZZ_FLAGS := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -g -O1
$(O)/fuzzobj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(filter-out -O2,$(CFLAGS)) $(FUZZ_FLAGS) -MMD -MP -c -o $@ $<

$(O)/fuzz/%_fuzz: $(O)/fuzzobj/tests/fuzz/%_fuzz.o $(patsubst %.c,$(O)/fuzzobj/%.o,$(LIB_SRC))
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $^ $(LDLIBS)

# The kernel's keep-list checks, extracted from the pinmem series and
# compiled alone with userspace stand-ins (tests/fuzz/kernel/).
KEEPLIST := $(O)/fuzz/keeplist-src
$(KEEPLIST)/keeplist.inc: tests/fuzz/kernel/extract mk/kernel-series pinmem/kernel/series \
		$(wildcard pinmem/kernel/*.patch)
	tests/fuzz/kernel/extract $(KEEPLIST)
$(O)/fuzz/keeplist_fuzz: tests/fuzz/keeplist_fuzz.c $(KEEPLIST)/keeplist.inc
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(filter-out -O2,$(CFLAGS)) $(FUZZ_FLAGS) -Wno-unused-parameter -Itests/fuzz/kernel/shim \
		-I$(KEEPLIST)/include -I$(KEEPLIST) -o $@ $<

fuzz: $(addprefix $(O)/fuzz/,$(FUZZERS))

# Kernel modules (pinmem and the tests' client module), built by kbuild
# against KVER's headers: the running kernel's when they are installed, else
# those of the test VM's kernel.  Sources are copied under $(O) so the tree
# stays clean.
VM_KVER = $(shell sed -n 's/^KVER=//p' $(NVWA_CACHE)/vm.env 2>/dev/null)
VM_NEW_KVER = $(shell sed -n 's/^NEW_KVER=//p' $(NVWA_CACHE)/vm.env 2>/dev/null)
KVER ?= $(if $(wildcard /lib/modules/$(shell uname -r)/build),$(shell uname -r),$(VM_KVER))
KDIR ?= /lib/modules/$(KVER)/build
KMOD := $(O)/kmod/$(KVER)
# What pinmem.ko is built from, here and by DKMS (install-dkms).
PINMEM_KMOD_SRC := $(wildcard pinmem/module/Kbuild pinmem/module/*.[ch] \
	pinmem/uapi/*.h pinmem/include/*.h pinmem/lib/*.h)
# The nvwa kernel's module for its zero-copy path (pinmem/keep), built only
# against a kernel with CONFIG_NVWA_KEEP (pinmem/kernel/0004).
KEEP_KMOD_SRC := $(wildcard pinmem/keep/Kbuild pinmem/keep/*.[ch] pinmem/uapi/nvwa_keep.h)
KMOD_SRC := $(PINMEM_KMOD_SRC) $(KEEP_KMOD_SRC) $(wildcard tests/kmod/*)

modules: $(KMOD)/pinmem.ko $(KMOD)/pinmem_client.ko

# Which kernel tree they were built against: the nvwa kernel keeps its
# release across builds of different series, each in a tree of its own.
$(KMOD)/kdir: FORCE
	@mkdir -p $(KMOD) && [ "$$(cat $@ 2>/dev/null)" = "$(KDIR)" ] || echo "$(KDIR)" > $@

$(KMOD)/pinmem.ko $(KMOD)/pinmem_client.ko &: $(KMOD_SRC) $(KMOD)/kdir
	@test -d $(KDIR) || { echo "no kernel headers in $(KDIR): apt-get install linux-headers-$(KVER)" >&2; exit 1; }
	rm -rf $(KMOD)/src && mkdir -p $(KMOD)/src/tests
	cp -r pinmem $(KMOD)/src/ && cp -r tests/kmod $(KMOD)/src/tests/
	$(MAKE) -C $(KDIR) M=$(abspath $(KMOD)/src/pinmem/module) modules
	$(MAKE) -C $(KDIR) M=$(abspath $(KMOD)/src/tests/kmod) \
		KBUILD_EXTRA_SYMBOLS=$(abspath $(KMOD)/src/pinmem/module/Module.symvers) modules
	cp $(KMOD)/src/pinmem/module/pinmem.ko $(KMOD)/src/tests/kmod/pinmem_client.ko $(KMOD)/
	if grep -qx 'CONFIG_NVWA_KEEP=y' $(KDIR)/.config 2>/dev/null; then \
		$(MAKE) -C $(KDIR) M=$(abspath $(KMOD)/src/pinmem/keep) modules && \
		cp $(KMOD)/src/pinmem/keep/nvwa_keep.ko $(KMOD)/; \
	else rm -f $(KMOD)/nvwa_keep.ko; fi

deps:
	./mk/deps.sh

# The nvwa kernel, cached under $(NVWA_CACHE)/kernel (mk/kernel/build says
# how); $(NVWA_CACHE)/kernel/nvwa.env names the last one built.  nvwa's
# modules for it: make kernel-modules.
# This tree's build names its own (NVWA_KERNEL_ENV), so that two clones
# building different series never boot each other's.
NVWA_KERNEL_ENV = $(abspath $(O))/nvwa-kernel.env
kernel:
	NVWA_KERNEL_ENV=$(NVWA_KERNEL_ENV) ./mk/kernel/build

kernel-modules: kernel
	. $(NVWA_KERNEL_ENV) && $(MAKE) modules KVER=$$KVER KDIR=$$KDIR

# The test VM's modules, for both kernel builds mk/deps.sh fetched: the one
# it boots and the one it updates into.
vm-modules:
	$(MAKE) modules KVER=$(VM_KVER)
	$(if $(filter-out $(VM_KVER),$(VM_NEW_KVER)),$(MAKE) modules KVER=$(VM_NEW_KVER))

check: deps
	$(MAKE) all unit fuzz vm-modules
	./tests/run

demo: deps
	$(MAKE) all vm-modules
	./tests/vm/demo

# Benchmarks: ratios measured in one run, never a pass/fail on timing.
bench: deps
	$(MAKE) all vm-modules kernel-modules
	./tests/vm/bench

# Installed files name each other by their installed paths.
SUBST := sed -e 's|@SBINDIR@|$(PREFIX)/sbin|g' \
	     -e 's|@PKGDATADIR@|$(PREFIX)/share/nvwa|g' \
	     -e 's|@CRIU_PLUGIN_DIR@|$(CRIU_PLUGIN_DIR)|g'
# tools/systemd/ is installed by kind: *.service are units, *-generator
# generators.  The initramfs-tools hook and its boot script are opt-in
# (README): they go to share/nvwa/initramfs-tools/, not /etc.
install: $(O)/nvwa $(O)/nvwa_pinmem.so
	install -D -m 0755 $(O)/nvwa $(DESTDIR)$(PREFIX)/sbin/nvwa
	install -D -m 0644 $(O)/nvwa_pinmem.so $(DESTDIR)$(CRIU_PLUGIN_DIR)/nvwa_pinmem.so
	install -d $(DESTDIR)$(SYSTEMDDIR)/system
	for f in $(wildcard tools/systemd/*.service); do \
		$(SUBST) $$f > $(DESTDIR)$(SYSTEMDDIR)/system/$${f##*/} || exit 1; \
	done
	for f in $(wildcard tools/systemd/*-generator); do \
		install -d $(DESTDIR)$(SYSTEMDDIR)/system-generators && \
		$(SUBST) $$f > $(DESTDIR)$(SYSTEMDDIR)/system-generators/$${f##*/} && \
		chmod 0755 $(DESTDIR)$(SYSTEMDDIR)/system-generators/$${f##*/} || exit 1; \
	done
	install -D -m 0755 tools/initramfs/nvwa-restore \
		$(DESTDIR)$(PREFIX)/share/nvwa/initramfs/nvwa-restore
	for f in hooks/nvwa scripts/init-bottom/nvwa; do \
		install -d $(DESTDIR)$(PREFIX)/share/nvwa/initramfs-tools/$${f%/*} && \
		$(SUBST) tools/initramfs/initramfs-tools/$$f \
			> $(DESTDIR)$(PREFIX)/share/nvwa/initramfs-tools/$$f && \
		chmod 0755 $(DESTDIR)$(PREFIX)/share/nvwa/initramfs-tools/$$f || exit 1; \
	done
	install -d $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 0644 tools/man/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/

# pinmem's source for DKMS (`dkms add`), with its dkms.conf.
DKMS_DIR := $(PREFIX)/src/nvwa-pinmem-$(NVWA_VERSION)
install-dkms:
	for f in $(PINMEM_KMOD_SRC:pinmem/%=%); do \
		install -D -m 0644 pinmem/$$f $(DESTDIR)$(DKMS_DIR)/$$f || exit 1; \
	done
	sed 's|#MODULE_VERSION#|$(NVWA_VERSION)|' pinmem/dkms.conf > $(DESTDIR)$(DKMS_DIR)/dkms.conf

# The Debian packages: debian/ and a copy of the sources are assembled in
# $(O)/deb/nvwa-VERSION, with VERSION and debian/changelog written from
# NVWA_VERSION, and built there by dpkg-buildpackage; the .debs land in
# $(O)/deb.  The changelog is dated by the last commit, so the same commit
# gives the same packages.
DEB_TREE := $(O)/deb/nvwa-$(NVWA_VERSION)
DEB_DATE = $(shell date -u -R -d @$${SOURCE_DATE_EPOCH:-$$(git log -1 --format=%ct 2>/dev/null || stat -c %Y VERSION)})
DEB_MAINT = $(shell sed -n 's/^Maintainer: //p' debian/control)
deb:
	@echo "deb: nvwa $(NVWA_VERSION), log in $(O)/deb/build.log"
	@rm -rf $(DEB_TREE) && mkdir -p $(DEB_TREE)
	@tar -c --exclude-vcs --exclude='./$(patsubst $(CURDIR)/%,%,$(abspath $(O)))' . | tar -x -C $(DEB_TREE)
	@echo '$(NVWA_VERSION)' > $(DEB_TREE)/VERSION
	@printf '%s\n' 'nvwa ($(NVWA_VERSION)) unstable; urgency=medium' '' \
		'  * nvwa $(NVWA_VERSION): see README.md.' '' \
		' -- $(DEB_MAINT)  $(DEB_DATE)' > $(DEB_TREE)/debian/changelog
	@rm -f $(O)/deb/*_$(NVWA_VERSION)_*
	@cd $(DEB_TREE) && dpkg-buildpackage -us -uc -b > ../build.log 2>&1 || \
		{ tail -n 30 ../build.log; echo "deb: dpkg-buildpackage failed, see $(O)/deb/build.log" >&2; exit 1; }
	@cd $(O)/deb && ls *_$(NVWA_VERSION)_*.deb | sed 's|^|deb: $(O)/deb/|'

# Man pages are written from each command's --help.
man: $(O)/nvwa
	mk/genman $(O)/nvwa tools/man

clean:
	rm -rf $(O)

FORCE:

.PHONY: all unit fuzz deps check demo bench install install-dkms deb man clean modules vm-modules \
	kernel kernel-modules FORCE
.SECONDARY:

-include $(shell find $(O) -name '*.d' 2>/dev/null)
