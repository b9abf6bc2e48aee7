# cardsmith — GNU make, no autotools.
#
#   make            build/bin/cardsmith, build/bin/cardsmith-sim, build/lib/
#   make check      install missing Debian packages, build, run every test
#   make demo       install, build, walk a virtual card through the tool
#   make asan       the same tests with ASan + UBSan (build/asan/)
#   make valgrind   the C test programs under valgrind
#   make fuzz-build libFuzzer targets (clang) in build/fuzz/
#   make fuzz       run each fuzz target FUZZ_SECONDS (default 60)
#   make install    PREFIX=/usr/local DESTDIR=
#   make format / format-check

VERSION := 0.1.0
BUILD ?= build
PREFIX ?= /usr/local
DESTDIR ?=
FUZZ_SECONDS ?= 60
SAN ?=
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

PKGS := libpcsclite openssl popt sqlite3 jansson zlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_CFLAGS := $(shell pkg-config --cflags cmocka 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

WARN := -Wall -Wextra -Werror -Wpedantic -Wshadow -Wformat=2 -Wvla \
	-Wstrict-prototypes -Wno-unused-parameter
ifeq ($(SAN),1)
OPT := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
SANLD := -fsanitize=address,undefined
else
OPT := -O2 -g -D_FORTIFY_SOURCE=2
SANLD :=
endif
CPPFLAGS += -D_GNU_SOURCE -DCS_VERSION='"$(VERSION)"' \
	-DCS_DATADIR='"$(PREFIX)/share/cardsmith"' -Iinclude -Ilib
CFLAGS ?=
CFLAGS += -std=c11 $(WARN) $(OPT) -fstack-protector-strong -fPIC \
	-fvisibility=hidden $(PKG_CFLAGS)
LDFLAGS += $(SANLD)
LDLIBS := $(PKG_LIBS) -lpthread -ldl

LIB_SRC := $(wildcard lib/*.c)
CA_SRC := $(wildcard ca/*.c)
CLI_SRC := $(filter-out cli/main.c,$(wildcard cli/*.c))
CLI_MAIN := $(wildcard cli/main.c)
SIM_SRC := $(filter-out sim/main.c,$(wildcard sim/*.c))
SIM_MAIN := $(wildcard sim/main.c)
# The pcscd reader driver: a shared object of its own, not in the sim lib.
IFD_SRC := $(wildcard sim/ifd/*.c)
SUP_SRC := $(wildcard tests/support/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
INTEG_SRC := $(wildcard tests/integration/test_*.c)
HARN_SRC := $(wildcard tests/harness/*.c)
FUZZ_SRC := $(filter-out tests/fuzz/fuzz_main.c,$(wildcard tests/fuzz/fuzz_*.c))
BENCH_SRC := $(wildcard bench/*.c)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBCS := $(BUILD)/lib/libcardsmith.a
LIBCS_SO := $(BUILD)/lib/libcardsmith.so.0
LIBCA := $(if $(CA_SRC),$(BUILD)/lib/libcardsmith-ca.a)
LIBSIM := $(if $(SIM_SRC),$(BUILD)/lib/libcardsmith-sim.a)
LIBSUP := $(if $(SUP_SRC),$(BUILD)/lib/libcstest.a)
LIBCLI := $(if $(CLI_SRC),$(BUILD)/lib/libcardsmith-cli.a)

CLI_BIN := $(if $(CLI_MAIN),$(BUILD)/bin/cardsmith)
SIM_BIN := $(if $(SIM_MAIN),$(BUILD)/bin/cardsmith-sim)
IFD_SO := $(if $(IFD_SRC),$(BUILD)/lib/libcardsmith-ifd.so)
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
INTEG_BIN := $(patsubst tests/integration/%.c,$(BUILD)/tests/integration/%,$(INTEG_SRC))
HARN_BIN := $(patsubst tests/harness/%.c,$(BUILD)/tests/harness/%,$(HARN_SRC))
REPLAY_BIN := $(patsubst tests/fuzz/fuzz_%.c,$(BUILD)/tests/fuzz/replay_%,$(FUZZ_SRC))
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

# Everything a program may need; static archives only pull what is used.
PROG_LIBS = $(LIBSIM) $(LIBCA) $(LIBCS)
TEST_LIBS = $(LIBSUP) $(LIBCLI) $(LIBSIM) $(LIBCA) $(LIBCS)

.PHONY: all deps check tests asan valgrind fuzz-build fuzz demo install \
	uninstall clean format format-check bench
.DEFAULT_GOAL := all
# Keep objects built through pattern chains (tests) between runs.
.PRECIOUS: $(BUILD)/obj/%.o $(BUILD)/fuzz/obj/%.o

all: $(LIBCS) $(LIBCS_SO) $(CLI_BIN) $(SIM_BIN) $(IFD_SO)

tests: all $(UNIT_BIN) $(INTEG_BIN) $(HARN_BIN) $(REPLAY_BIN) $(BENCH_BIN)

deps:
	@scripts/install-deps.sh

# The README's test command. Dependencies are installed first, then the
# build is re-read (pkg-config flags) by a sub-make.
# Under CI (CI=true) the sanitizer and valgrind passes run as well.
check: deps
	@$(MAKE) --no-print-directory -j$(JOBS) tests
	@tests/run.sh $(BUILD)
	@if [ "$${CI:-}" = true ] || [ "$${CHECK_ALL:-0}" = 1 ]; then \
	  set -e; echo "== check: ASan/UBSan pass"; \
	  $(MAKE) --no-print-directory asan; \
	  echo "== check: valgrind pass"; \
	  $(MAKE) --no-print-directory valgrind; fi

asan: deps
	@$(MAKE) --no-print-directory -j$(JOBS) BUILD=build/asan SAN=1 tests
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	tests/run.sh build/asan

valgrind: deps
	@$(MAKE) --no-print-directory -j$(JOBS) tests
	@CS_TEST_VALGRIND=1 tests/run.sh $(BUILD)

demo: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all $(HARN_BIN)
	@scripts/demo.sh $(BUILD)

bench: deps
	@$(MAKE) --no-print-directory -j$(JOBS) tests
	@bench/run.sh $(BUILD)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/tests/%.o: CFLAGS += $(CMOCKA_CFLAGS) -Itests/support -Itests -Icli -Isim \
	-Wno-pedantic
$(BUILD)/obj/bench/%.o: CFLAGS += -Itests/support -Itests
$(BUILD)/obj/sim/%.o: CPPFLAGS += -Isim

$(LIBCS): $(call obj,$(LIB_SRC))
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(LIBCS_SO): $(call obj,$(LIB_SRC))
	@mkdir -p $(@D)
	$(CC) -shared -Wl,-soname,libcardsmith.so.0 $(LDFLAGS) -o $@ $^ $(LDLIBS)
	ln -sf libcardsmith.so.0 $(BUILD)/lib/libcardsmith.so

$(BUILD)/lib/libcardsmith-ca.a: $(call obj,$(CA_SRC))
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/lib/libcardsmith-sim.a: $(call obj,$(SIM_SRC))
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

# pcscd (not sanitized) dlopens the driver: never build it with SAN=1.
$(BUILD)/obj/sim/ifd/%.o: OPT := -O2 -g -D_FORTIFY_SOURCE=2
$(IFD_SO): SANLD :=
$(IFD_SO): $(call obj,$(IFD_SRC))
	@mkdir -p $(@D)
	$(CC) -shared -Wl,-z,defs $(LDFLAGS) -o $@ $^ -lpthread

$(BUILD)/lib/libcstest.a: $(call obj,$(SUP_SRC))
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(LIBCLI): $(call obj,$(CLI_SRC))
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^

$(CLI_BIN): $(call obj,$(CLI_MAIN)) $(LIBCLI) $(LIBCA) $(LIBCS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(call obj,$(CLI_MAIN)) $(LIBCLI) $(LIBCA) \
	    $(LIBCS) $(LDLIBS)

$(BUILD)/bin/cardsmith-sim: $(call obj,$(SIM_MAIN)) $(LIBSIM) $(LIBCS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(call obj,$(SIM_MAIN)) $(LIBSIM) $(LIBCS) $(LDLIBS)

$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(TEST_LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(TEST_LIBS) $(CMOCKA_LIBS) $(LDLIBS)

$(BUILD)/tests/integration/%: $(BUILD)/obj/tests/integration/%.o $(TEST_LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(TEST_LIBS) $(CMOCKA_LIBS) $(LDLIBS)

$(BUILD)/tests/harness/%: $(BUILD)/obj/tests/harness/%.o $(TEST_LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(TEST_LIBS) $(CMOCKA_LIBS) $(LDLIBS)

$(BUILD)/tests/fuzz/replay_%: $(BUILD)/obj/tests/fuzz/fuzz_%.o \
    $(BUILD)/obj/tests/fuzz/fuzz_main.o $(TEST_LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/obj/tests/fuzz/fuzz_main.o \
	    $(TEST_LIBS) $(LDLIBS)

$(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(TEST_LIBS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(TEST_LIBS) $(LDLIBS)

# libFuzzer builds: everything compiled again with clang and coverage.
FUZZ_CC ?= clang
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=undefined
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_BIN := $(patsubst tests/fuzz/fuzz_%.c,$(FUZZ_DIR)/fuzz_%,$(FUZZ_SRC))
FUZZ_LIB_SRC := $(LIB_SRC) $(SIM_SRC) $(CA_SRC) $(SUP_SRC) $(CLI_SRC)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS) -Isim -Itests/support -Itests -std=c11 \
	    $(PKG_CFLAGS) $(CMOCKA_CFLAGS) $(FUZZ_FLAGS) -c $< -o $@

$(FUZZ_DIR)/libfuzzdeps.a: $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(FUZZ_LIB_SRC))
	rm -f $@ && $(AR) rcs $@ $^

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/tests/fuzz/fuzz_%.o $(FUZZ_DIR)/libfuzzdeps.a
	$(FUZZ_CC) -fsanitize=fuzzer,address,undefined -o $@ $^ $(LDLIBS)

fuzz-build: deps
	@$(MAKE) --no-print-directory -j$(JOBS) $(FUZZ_BIN)

fuzz: fuzz-build
	@set -e; for f in $(FUZZ_BIN); do \
	  n=$${f##*/fuzz_}; mkdir -p $(FUZZ_DIR)/corpus/$$n; \
	  echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_DIR)/crash-$$n- \
	    $(FUZZ_DIR)/corpus/$$n tests/fuzz/corpus/$$n 2>$(FUZZ_DIR)/$$n.log \
	    || { tail -40 $(FUZZ_DIR)/$$n.log; exit 1; }; \
	  grep -E 'stat::(number_of_executed_units|average_exec_per_sec)' $(FUZZ_DIR)/$$n.log || true; \
	done

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
	    $(DESTDIR)$(PREFIX)/include/cardsmith \
	    $(DESTDIR)$(PREFIX)/share/cardsmith \
	    $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(CLI_BIN) $(SIM_BIN) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(LIBCS) $(LIBCA) $(DESTDIR)$(PREFIX)/lib/
	install -m 0755 $(LIBCS_SO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libcardsmith.so.0 $(DESTDIR)$(PREFIX)/lib/libcardsmith.so
	install -m 0644 include/cardsmith/*.h \
	    $(DESTDIR)$(PREFIX)/include/cardsmith/
	install -m 0644 share/yubico-piv-roots.pem \
	    $(DESTDIR)$(PREFIX)/share/cardsmith/
	install -d $(DESTDIR)$(PREFIX)/share/cardsmith/profiles
	install -m 0644 profiles/*.cnf $(DESTDIR)$(PREFIX)/share/cardsmith/profiles/
	install -d $(DESTDIR)$(PREFIX)/share/cardsmith/profiles/sets
	install -m 0644 profiles/sets/*.cnf \
	    $(DESTDIR)$(PREFIX)/share/cardsmith/profiles/sets/
	if ls doc/*.1 >/dev/null 2>&1; then \
	    install -m 0644 doc/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/; fi

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/cardsmith $(DESTDIR)$(PREFIX)/bin/cardsmith-sim
	rm -f $(DESTDIR)$(PREFIX)/lib/libcardsmith.* $(DESTDIR)$(PREFIX)/lib/libcardsmith-ca.a
	rm -rf $(DESTDIR)$(PREFIX)/include/cardsmith $(DESTDIR)$(PREFIX)/share/cardsmith
	rm -f $(DESTDIR)$(PREFIX)/share/man/man1/cardsmith.1

clean:
	rm -rf build

FMT_SRC = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FMT_SRC)
format-check:
	clang-format --dry-run -Werror $(FMT_SRC)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
