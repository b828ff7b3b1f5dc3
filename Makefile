# quill - build, run and test. The targets are the contract:
#   make deps   install missing Debian packages (build + test)
#   make deps-bench  the same plus what only bench/ uses (pebble)
#   make build  build/quill
#   make build-test  build/quill-test: the same with the pause points of
#               src/base/testhook.h compiled in (for `make system` only)
#   make run    deps + build + start `quill serve` on ./var (CA created on first start)
#   make test   deps + build + unit tests (ASan+UBSan) + fuzz smoke + system tests
.DEFAULT_GOAL := build
SHELL := /bin/bash

BUILD   ?= build
CC      ?= cc
PKGS    := openssl sqlite3 jansson libmicrohttpd gnutls libpsl inih libunbound libcurl libseccomp
WARN    := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wformat=2
CSTD    := -std=c17 -D_GNU_SOURCE
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS  ?= -O2 -g
ALL_CFLAGS = $(CSTD) $(WARN) $(CFLAGS) -Isrc -I$(BUILD)/gen $(PKG_CFLAGS) -MMD -MP
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

LIB_SRC  := $(filter-out src/cli/main.c,$(sort $(wildcard src/*/*.c)))
MIGRATIONS := $(sort $(wildcard src/store/migrations/*.sql))
GEN_SRC  := $(BUILD)/gen/migrations.c
LIB_OBJ  := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(LIB_SRC)) $(BUILD)/obj/gen/migrations.o
ASAN_OBJ := $(patsubst src/%.c,$(BUILD)/asan/%.o,$(LIB_SRC)) $(BUILD)/asan/gen/migrations.o
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRC))
TEST_OBJ := $(patsubst src/%.c,$(BUILD)/testobj/%.o,$(LIB_SRC) src/cli/main.c) \
            $(BUILD)/testobj/gen/migrations.o
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BIN := $(patsubst fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
FUZZ_OBJ := $(patsubst src/%.c,$(BUILD)/fuzzobj/%.o,$(LIB_SRC)) $(BUILD)/fuzzobj/gen/migrations.o
FUZZ_SECONDS ?= 10
V ?= 0
Q := $(if $(filter 1,$(V)),,@)
say = $(if $(filter 1,$(V)),,@printf "  %-6s %s\n" $(1) $(2);)

.PHONY: deps deps-build deps-bench build build-test run test unit fuzz fuzz-smoke system format check-src clean docs

deps:
	@scripts/deps.sh test

deps-build:
	@scripts/deps.sh build

deps-bench:
	@scripts/deps.sh bench

build: $(BUILD)/quill

$(BUILD)/gen/migrations.c: $(MIGRATIONS) scripts/embed-sql.sh
	@mkdir -p $(dir $@)
	$(call say,GEN,$@)scripts/embed-sql.sh $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -c $< -o $@
$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libquill.a: $(LIB_OBJ)
	@rm -f $@
	$(call say,AR,$@)ar rcs $@ $^

$(BUILD)/quill: $(BUILD)/obj/cli/main.o $(BUILD)/libquill.a
	$(call say,LINK,$@)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

# ---- the test build: pause points for race tests (src/base/testhook.h) ----
# Its own object directory, so build/quill never holds a pause point.
build-test: $(BUILD)/quill-test

$(BUILD)/testobj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -DQUILL_TEST_HOOKS -c $< -o $@
$(BUILD)/testobj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -DQUILL_TEST_HOOKS -c $< -o $@
$(BUILD)/quill-test: $(TEST_OBJ)
	$(call say,LINK,$@)$(CC) $(CFLAGS) -o $@ $^ $(PKG_LIBS)

# ---- unit tests under ASan + UBSan ----
$(BUILD)/asan/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -O1 $(SAN) -c $< -o $@
$(BUILD)/asan/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)$(CC) $(ALL_CFLAGS) -O1 $(SAN) -c $< -o $@
$(BUILD)/libquill-asan.a: $(ASAN_OBJ)
	@rm -f $@
	$(call say,AR,$@)ar rcs $@ $^
$(BUILD)/unit/%: tests/unit/%.c $(BUILD)/libquill-asan.a
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)$(CC) $(ALL_CFLAGS) -O1 $(SAN) -o $@ $< $(BUILD)/libquill-asan.a $(PKG_LIBS) -lcmocka

unit: $(UNIT_BIN)
	@scripts/run-unit.sh $(UNIT_BIN)

# ---- fuzzing (clang + libFuzzer) ----
FUZZ_CC := clang
FUZZ_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -g -O1
$(BUILD)/fuzzobj/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)$(FUZZ_CC) $(CSTD) -Wall -Wextra -Werror -Isrc -I$(BUILD)/gen $(PKG_CFLAGS) $(FUZZ_FLAGS) -c $< -o $@
$(BUILD)/fuzzobj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)$(FUZZ_CC) $(CSTD) -Isrc $(FUZZ_FLAGS) -c $< -o $@
$(BUILD)/libquill-fuzz.a: $(FUZZ_OBJ)
	@rm -f $@
	$(call say,AR,$@)ar rcs $@ $^
$(BUILD)/fuzz/%: fuzz/%.c $(BUILD)/libquill-fuzz.a
	@mkdir -p $(dir $@)
	$(call say,CC,$@)$(FUZZ_CC) $(CSTD) -Wall -Wextra -Werror -Isrc $(PKG_CFLAGS) -fsanitize=fuzzer,address,undefined -g -O1 -o $@ $< $(BUILD)/libquill-fuzz.a $(PKG_LIBS)

fuzz: $(FUZZ_BIN)

fuzz-smoke: $(FUZZ_BIN)
	@scripts/fuzz-smoke.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

# ---- system tests: the real binary against real servers ----
system: $(BUILD)/quill $(BUILD)/quill-test
	@scripts/run-system.sh

check-src:
	@scripts/check-src.sh

test: deps
	@$(MAKE) --no-print-directory build
	@scripts/run-tests.sh

run: deps-build build
	@scripts/first-run.sh var
	exec $(BUILD)/quill serve --data var

docs: $(BUILD)/quill
	$(BUILD)/quill config doc > docs/configuration.md
	$(BUILD)/quill errors > docs/errors.md

format:
	clang-format -i $$(git ls-files 'src/*.[ch]' 'tests/unit/*.[ch]' 'fuzz/*.c')

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
