# bpfvm - build, test, benchmark, install.
#
#   make            build/bpfvm, build/libbpfvm.a, build/libbpfvm.so
#   make demo       build, then run the bundled example programs
#   make test       every test, then again under AddressSanitizer + UBSan
#   make bench      the benchmark suite (ratios against native C and the kernel)
#   make fuzz       build the libFuzzer targets (tests/fuzz/)
#   make install    PREFIX=/usr/local: command, libraries, headers, pkg-config, man page,
#                   bash completion
#
# Missing Debian packages are installed by scripts/deps.sh before the first build.

CC       ?= cc
BUILD    ?= build
PREFIX   ?= /usr/local
SHARED   ?= $(abspath ../shared)
VERSION  := 0.1.0

WARN     := -Wall -Wextra -Werror
CFLAGS   ?= -O2 -g
override CFLAGS += -std=gnu11 $(WARN) -Iinclude -fPIC -fvisibility=hidden -D_GNU_SOURCE $(STRINGOPS) $(TLSDESC)
# GCC clears or copies a struct of 65 bytes to 8 KiB with rep stos/movs, whose start costs
# some 14 ns on this machine's AMD EPYC (memset of 144 bytes; glibc's, called, 1.7 ns): twice
# on a uprobe hit's path (run context, task), half its time.  Above the stores it inlines
# (up to some 128 bytes), libc's functions instead.  Compilers without the option: as is.
STRINGOPS := $(shell $(CC) -mmemset-strategy=libcall:-1:noalign -mmemcpy-strategy=libcall:-1:noalign \
	-Werror -S -o /dev/null -x c /dev/null 2>/dev/null && \
	echo -mmemset-strategy=libcall:-1:noalign -mmemcpy-strategy=libcall:-1:noalign)
# Thread-local variables of the shared library by TLS descriptors: a uprobe hit reads its
# thread's state through one, and the default dialect's __tls_get_addr call was some 5% of
# the hit here; a descriptor of a library loaded at start-up is a load.
TLSDESC := $(shell $(CC) -mtls-dialect=gnu2 -Werror -S -o /dev/null -x c /dev/null 2>/dev/null && \
	echo -mtls-dialect=gnu2)
LDLIBS   := -lelf -lz -lpthread -lm -lZydis

# The library: every layer under src/.  The command line: tools/.
LIB_SRC  := $(sort $(wildcard src/*/*.c))
TOOL_SRC := $(sort $(wildcard tools/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
TOOL_OBJ := $(TOOL_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
KERNEL_SRC := $(sort $(wildcard tests/kernel/test_*.c))
KERNEL_BIN := $(KERNEL_SRC:tests/kernel/%.c=$(BUILD)/tests/%)
# Helpers the test scripts run, built on the library.
TOOL_BIN := $(BUILD)/tests/extract_bpf_objs

DEPS_STAMP := $(BUILD)/.deps-installed

.PHONY: all deps demo test test-plain test-sanitize test-build-plain test-build-sanitize bench fuzz install clean

all: $(BUILD)/bpfvm $(BUILD)/libbpfvm.a $(BUILD)/libbpfvm.so $(BUILD)/libbpfvm-agent.so $(BUILD)/libbpfvm-preload.so

deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/deps.sh
	@mkdir -p $(BUILD)
	@sh scripts/deps.sh
	@touch $@

$(BUILD)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# GCC's points-to analysis ("tree PTA") took 100 s of the sanitized build's 240 s of CPU on
# src/vm/interp.c alone (its two interpreters are each one function of some 300
# computed-goto labels, whose locals ASan makes addressable): 8 s for the file without it.
# The sanitizers check the same (11,005 calls to their report handlers, 11,001 with it);
# the plain build keeps it.
SANITIZING := $(findstring -fsanitize=address,$(CFLAGS))
$(BUILD)/src/vm/interp.o: override CFLAGS += $(if $(SANITIZING),-fno-tree-pta)

# What an embedder links: the library as one relocatable object whose hidden
# symbols (all but BPFVM_API's, under -fvisibility=hidden) are made local, so
# that no internal name (explore, state_new, ...) can clash with one of the
# embedder's; tests/scripts/test_symbols.sh checks.  The same objects as they
# are, every internal symbol global, for what calls internals: the unit and
# kernel tests (-Isrc) and bench_verify.
$(BUILD)/libbpfvm.a: $(LIB_OBJ)
	@rm -f $@ $(BUILD)/libbpfvm.o
	$(LD) -r -o $(BUILD)/libbpfvm.o $^
	objcopy --localize-hidden $(BUILD)/libbpfvm.o
	ar rcs $@ $(BUILD)/libbpfvm.o

$(BUILD)/libbpfvm_internal.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# libbpfvm.so.0 beside it: the name the command asks the loader for (its soname).
$(BUILD)/libbpfvm.so: $(LIB_OBJ) src/libbpfvm.map
	$(CC) -shared -Wl,--version-script=src/libbpfvm.map -Wl,-soname,libbpfvm.so.0 \
		$(LDFLAGS) -o $@ $(LIB_OBJ) $(LDLIBS)
	ln -sf libbpfvm.so $(BUILD)/libbpfvm.so.0

# bpfvm exec's preloaded library (preload/): a top layer on the public API, like
# the command; it finds libbpfvm.so beside it.
PRELOAD_SRC := $(sort $(wildcard preload/*.c))
$(BUILD)/libbpfvm-preload.so: $(PRELOAD_SRC:%.c=$(BUILD)/%.o) $(BUILD)/libbpfvm.so
	$(CC) -shared $(LDFLAGS) -o $@ $(filter %.o,$^) -L$(BUILD) -l:libbpfvm.so.0 \
		-Wl,-rpath,'$$ORIGIN' -lpthread

# The command uses the public API alone, so it links the shared library: found
# beside it in the build directory, or in ../lib once installed.  Zydis is the
# library's (uprobes step instructions out of line: src/events/ubp.c) and the
# command's (bpfvm jit --dump).
$(BUILD)/bpfvm: $(TOOL_OBJ) $(BUILD)/libbpfvm.so
	$(CC) $(LDFLAGS) -o $@ $(TOOL_OBJ) -L$(BUILD) -l:libbpfvm.so.0 \
		-Wl,-rpath,'$$ORIGIN:$$ORIGIN/../lib' $(LDLIBS) -lpcap

# The in-process agent of `bpfvm trace --mode agent` (agent/agent.c): preloaded into the
# traced command, public API alone, beside libbpfvm.so as the command is.
AGENT_SRC := $(sort $(wildcard agent/*.c))
$(BUILD)/libbpfvm-agent.so: $(AGENT_SRC:%.c=$(BUILD)/%.o) $(BUILD)/tools/verify_util.o $(BUILD)/libbpfvm.so
	$(CC) -shared $(LDFLAGS) -o $@ $(filter %.o,$^) \
		-L$(BUILD) -l:libbpfvm.so.0 -Wl,-rpath,'$$ORIGIN:$$ORIGIN/../lib'

# Unit tests see the library's internals (they link the archive).
$(BUILD)/tests/%: tests/unit/%.c tests/unit/test.h $(BUILD)/libbpfvm_internal.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Isrc -o $@ $< $(BUILD)/libbpfvm_internal.a $(LDLIBS)

# libbpf's ring buffer consumer reading bpfvm's ring buffers: libbpf linked
# statically, the calls that expect a kernel map fd wrapped (see the test).
# libbpf.a is looked for when the recipe runs, after scripts/deps.sh has
# installed libbpf-dev (a fresh machine has none when make reads this).
LIBBPF_A_GLOB := /usr/lib/*/libbpf.a /usr/lib64/libbpf.a /usr/lib/libbpf.a
LIBBPF_WRAP := -Wl,--wrap=bpf_obj_get_info_by_fd,--wrap=mmap64,--wrap=munmap,--wrap=epoll_ctl
$(BUILD)/tests/test_ringbuf_libbpf: tests/unit/test_ringbuf_libbpf.c tests/unit/test.h $(BUILD)/libbpfvm_internal.a | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	a=$$(ls $(LIBBPF_A_GLOB) 2>/dev/null | head -n 1); \
	$(CC) $(CFLAGS) -Isrc $${a:--DNO_LIBBPF} -o $@ $< $(BUILD)/libbpfvm_internal.a \
		$${a:+$$a $(LIBBPF_WRAP)} $(LDLIBS)

$(BUILD)/tests/test_verifier_cases: tests/unit/verifier_cases.h
$(filter $(BUILD)/tests/test_jit_%,$(UNIT_BIN)): tests/unit/jit_harness.h
$(BUILD)/tests/test_jit_rows: tests/fuzz/fuzz_jit.c
$(BUILD)/tests/test_elf $(BUILD)/tests/test_elf_conventions: tests/unit/elf_build.h

$(BUILD)/tests/%: tests/kernel/%.c tests/unit/test.h $(wildcard tests/kernel/*.h) $(BUILD)/libbpfvm_internal.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Isrc -Itests/unit -o $@ $< $(BUILD)/libbpfvm_internal.a $(LDLIBS)

$(BUILD)/tests/extract_bpf_objs: tests/tools/extract_bpf_objs.c $(BUILD)/libbpfvm.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libbpfvm.a $(LDLIBS)

# The kernel side of the object test loads with libbpf (in tests only, never the library).
$(BUILD)/tests/test_kernel_objects: LDLIBS += -lbpf
$(BUILD)/tests/test_kernel_trace: LDLIBS += -lbpf
$(BUILD)/tests/test_kernel_uprobe: LDLIBS += -lbpf
$(BUILD)/tests/test_kernel_stacks: LDLIBS += -lbpf
$(BUILD)/tests/test_kernel_unwind: LDLIBS += -lbpf
# Classic BPF against libpcap, tcpdump and the kernel; seccomp filters built with libseccomp.
$(BUILD)/tests/test_kernel_cbpf: LDLIBS += -lpcap
$(BUILD)/tests/test_kernel_seccomp: LDLIBS += -lseccomp

# The README's first command: build, then run the bundled examples.
demo: all
	@sh examples/run.sh $(BUILD)/bpfvm

# make test: the plain build, then the same suite under ASan + UBSan.  Both builds are
# made first, side by side (make -j: the machine's cores), the two passes one after the other.
NPROC := $(shell nproc 2>/dev/null || echo 1)
test: | $(DEPS_STAMP)
	@$(MAKE) --no-print-directory -j$(NPROC) test-build-plain test-build-sanitize
	@$(MAKE) --no-print-directory test-plain
	@$(MAKE) --no-print-directory test-sanitize

# The kernel's answers to the same questions in both passes are kept here (tests/scripts/kernel_cache.sh),
# and the kernel's verifier selftests built with clang (tests/scripts/test_verifier_selftests.sh).
KERNEL_CACHE := $(abspath $(BUILD))/kernel-answers
SELFTEST_OBJS := $(abspath $(BUILD))/verifier-selftests

test-build-plain: all $(UNIT_BIN) $(KERNEL_BIN) $(TOOL_BIN)

test-plain: test-build-plain
	@BUILD=$(BUILD) SHARED=$(SHARED) BPFVM_KERNEL_CACHE=$(KERNEL_CACHE) \
		BPFVM_SELFTEST_OBJS=$(SELFTEST_OBJS) bash tests/run.sh

SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
test-build-sanitize: | $(DEPS_STAMP)
	@$(MAKE) -s BUILD=$(BUILD)/san CFLAGS="$(SAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" \
		all $(patsubst $(BUILD)/%,$(BUILD)/san/%,$(UNIT_BIN) $(KERNEL_BIN) $(TOOL_BIN))

test-sanitize: test-build-sanitize
	@BUILD=$(BUILD)/san SHARED=$(SHARED) SANITIZED=1 BPFVM_KERNEL_CACHE=$(KERNEL_CACHE) \
		BPFVM_SELFTEST_OBJS=$(SELFTEST_OBJS) \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		bash tests/run.sh

bench: all $(BUILD)/libbpfvm_internal.a $(BUILD)/bench/bench_maps
	@$(MAKE) -s -C bench BUILD=$(abspath $(BUILD))/bench BPFVM=$(abspath $(BUILD))/bpfvm
	@$(abspath $(BUILD))/bench/bench_runner $(abspath $(BUILD))/bench
	@$(abspath $(BUILD))/bench/bench_verify $(abspath $(BUILD))/bench
	@$(BUILD)/bench/bench_maps
	@BPFVM=$(abspath $(BUILD))/bpfvm $(abspath $(BUILD))/bench/bench_trace $(abspath $(BUILD))/bench/trace
	@BPFVM=$(abspath $(BUILD))/bpfvm $(abspath $(BUILD))/bench/bench_xdp_live $(abspath $(BUILD))/bench/live
	@BPFVM=$(abspath $(BUILD))/bpfvm $(abspath $(BUILD))/bench/bench_uprobe $(abspath $(BUILD))/bench/trace
	@BPFVM=$(abspath $(BUILD))/bpfvm $(abspath $(BUILD))/bench/bench_workload $(abspath $(BUILD))/bench/trace
	@BPFVM=$(abspath $(BUILD))/bpfvm sh bench/bench_exec.sh $(abspath $(BUILD))/bench/trace

# Map operations against the kernel's (bench/bench_maps.c).
$(BUILD)/bench/bench_maps: bench/bench_maps.c $(BUILD)/libbpfvm.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libbpfvm.a $(LDLIBS)

FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
fuzz: | $(DEPS_STAMP)
	@mkdir -p $(BUILD)/fuzz
	@for f in $(FUZZ_SRC); do \
		n=$$(basename $$f .c); \
		clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc -D_GNU_SOURCE \
			-o $(BUILD)/fuzz/$$n $$f $(LIB_SRC) $(LDLIBS) || exit 1; \
	done

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/bpfvm \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 755 $(BUILD)/bpfvm $(DESTDIR)$(PREFIX)/bin/bpfvm
	install -m 644 $(BUILD)/libbpfvm.a $(DESTDIR)$(PREFIX)/lib/libbpfvm.a
	install -m 755 $(BUILD)/libbpfvm.so $(DESTDIR)$(PREFIX)/lib/libbpfvm.so.$(VERSION)
	ln -sf libbpfvm.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libbpfvm.so.0
	ln -sf libbpfvm.so.0 $(DESTDIR)$(PREFIX)/lib/libbpfvm.so
	install -m 755 $(BUILD)/libbpfvm-preload.so $(DESTDIR)$(PREFIX)/lib/libbpfvm-preload.so
	install -m 644 include/bpfvm/*.h $(DESTDIR)$(PREFIX)/include/bpfvm/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' libbpfvm.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/libbpfvm.pc
	install -d $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions
	install -m 644 doc/bpfvm.1 $(DESTDIR)$(PREFIX)/share/man/man1/bpfvm.1
	install -m 644 completions/bpfvm $(DESTDIR)$(PREFIX)/share/bash-completion/completions/bpfvm

clean:
	rm -rf $(BUILD)

-include $(LIB_OBJ:.o=.d) $(TOOL_OBJ:.o=.d) $(PRELOAD_SRC:%.c=$(BUILD)/%.d)
