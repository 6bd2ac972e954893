# raftlab — run `make help` for the targets.
SHELL := /bin/bash
CARGO ?= cargo
# Another raft crate to test instead of the reference one (a folder with Cargo.toml).
RAFT ?=
# Another kvraft crate (with RAFT, for lab 3).
KVRAFT ?=
# One test to run instead of the whole group, e.g. TEST=InitialElection2A.
TEST ?=
# Extra arguments for the test runner, e.g. ARGS="--test-threads 1".
ARGS ?=
# Repeat mode: run the group (or TEST) REPEAT times, e.g. REPEAT=50 (JOBS=auto unless given).
REPEAT ?=
# Runs at a time: auto (as many as the measured load allows, each test a process of its
# own) or a number; 1 is the plain runner, one test after another in one process.
# Default: auto for `make test` and repeat mode, 1 for one group; one TEST runs alone.
JOBS ?=

# Where cargo puts the release build: CARGO_TARGET_DIR if set, else target/.
RELEASE_DIR = $(or $(CARGO_TARGET_DIR),target)/release

# One package set for every release build (test-*, grade, check): cargo unifies
# features by the packages named, so a different set would rebuild shared crates.
# The grader runs on Linux only; elsewhere (macOS) the student commands build
# without it and take the portable path (see the README).
ifeq ($(shell uname -s),Linux)
RELEASE_BUILD = $(CARGO) build --release -p grader -p node -p labs
else
RELEASE_BUILD = $(CARGO) build --release -p node -p labs
endif
# A recipe's first line for what needs the grader.
LINUX_ONLY = @if [ "$$(uname -s)" != Linux ]; then echo "make $@: the grader runs on Linux only (this is $$(uname -s)); make test-* runs here" >&2; exit 2; fi

ifeq ($(strip $(RAFT)$(KVRAFT)),)
LABS = $(RELEASE_DIR)/labs
BUILD = $(RELEASE_BUILD)
else ifeq ($(shell uname -s),Linux)
# The student's crates build as a grading builds them (`grader swap`, which builds as `grader build`);
# the kit's own labs runs their node.
LABS = node=$$($(RELEASE_DIR)/grader swap $(or $(RAFT),raft) $(KVRAFT)) && LAB_NODE=$$node $(RELEASE_DIR)/labs
BUILD = $(RELEASE_BUILD)
else
# The grader, which builds them, runs on Linux only.
LABS = { echo "make: RAFT=/KVRAFT= build a crate as the grader does, which runs on Linux only;" >&2; \
  echo "make: on $$(uname -s), put the crate in raft/ (or kvraft/) and run make test-2A without RAFT=" >&2; exit 2; }; \
  $(RELEASE_DIR)/labs
BUILD = $(RELEASE_BUILD)
endif

# Extra arguments for the grader, e.g. GRADE_ARGS='--groups 2A --iterations 3'.
GRADE_ARGS ?=

# JOBS, else the target's default $(1).
jobs = $(or $(strip $(JOBS)),$(1))
# The runner's arguments: with REPEAT, repeat mode; else `--jobs` for a whole group (none
# for JOBS=1 or one TEST); then TEST exactly if given, else the group $(1). $(2): the default JOBS.
only = $(if $(strip $(REPEAT)),--repeat $(REPEAT) --jobs $(call jobs,auto) ,$(if $(strip $(TEST)),,$(if $(filter-out 1,$(call jobs,$(2))),--jobs $(call jobs,$(2)) )))$(if $(strip $(TEST)),$(TEST) --exact,$(1))

# Extra arguments for the self-check, e.g. SELFCHECK_ARGS='--rounds 3' or '--mutants kv-no-dedup'.
SELFCHECK_ARGS ?=

# The targets and their `## ` help lines, for `make help`.
HELP_LINES = grep -E '^[a-zA-Z0-9_-]+:.*\#\# ' $(MAKEFILE_LIST) | awk -F ':.*\#\# ' '{printf "  make %-14s %s\n", $$1, $$2}'

.PHONY: portable chromium bench-checker bench-spawn grader-e2e grade grading-kit sandbox handout test-handout selfcheck selfcheck-ci contract help build test $(GROUP_TARGETS) check fmt lint unit bench-proxy clean

help: ## Show this help
	@$(HELP_LINES) | sed -n '1,/^  make test /p'
	@sed -nE 's/$(GROUP_LINE)/test-\2\t\2 tests: \3/p' labs/src/lab.rs | awk -F '\t' '{printf "  make %-14s %s\n", $$1, $$2}'
	@$(HELP_LINES) | sed '1,/^  make test /d'
	@echo "  Variables: RAFT=dir, KVRAFT=dir (test other crates), TEST=Name (one test), ARGS='…' (runner flags),"
	@echo "             JOBS=auto|N (each test a process of its own, as many at once as the measured load allows, or N;"
	@echo "             JOBS=1: one after another in one process; default auto for make test and REPEAT, 1 for one group),"
	@echo "             REPEAT=N (run a test-* target N times; failing seeds and replay commands at the end),"
	@echo "             SUBMISSION=dir, GRADE_ARGS='…' (for make grade), SELFCHECK_ARGS='…' (for make selfcheck)"

build: ## Build node, the test runner and the grader (release; one build serves test-* and grade)
	$(BUILD)

# One target per graded group, test-<group>, read from the labs' one declaration
# (labs/src/lab.rs, its `Group { id: "…", title: "…", cases: … }` lines, or a lab's
# only group as rustfmt writes it, `groups: &[Group { … }],`; a unit test of
# labs holds them to this reading), so a fresh, unbuilt checkout lists them too.
GROUP_LINE = ^ *(groups: &\[)?Group \{ id: "([A-Za-z0-9]+)", title: "([^"]*)", cases: [a-z0-9_:]+ \}(\],|,)?$$
GROUPS := $(shell sed -nE 's/$(GROUP_LINE)/\2/p' labs/src/lab.rs)
GROUP_TARGETS := $(addprefix test-,$(GROUPS))

$(GROUP_TARGETS): test-%: build
	$(LABS) $(call only,$*,1) $(ARGS)

test: build ## Every lab group, side by side by measured load (JOBS=auto; JOBS=1: one after another)
	$(LABS) $(call only,,auto) $(ARGS)

grade: ## Grade the reference solution (or SUBMISSION=dir) with the default rubric; reports in target/grade/
	$(LINUX_ONLY)
	$(RELEASE_BUILD)
	@scripts/install-sandbox.sh
	$(if $(strip $(SUBMISSION)),$(RELEASE_DIR)/grader kit target/grading-kit)
	$(RELEASE_DIR)/grader run $(SUBMISSION) --out target/grade $(GRADE_ARGS)

grading-kit: ## What the grader builds submissions from: node workspace, vendored sources (target/grading-kit)
	$(LINUX_ONLY)
	$(RELEASE_BUILD)
	$(RELEASE_DIR)/grader kit target/grading-kit

fmt: ## Format the code
	$(CARGO) fmt --all

lint: ## rustfmt check and clippy with warnings denied
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

unit: ## Unit, integration and doc tests of the kit (cargo test)
	$(CARGO) test --workspace

sandbox: ## Install bubblewrap for the grader's sandbox (as root; otherwise says what is missing)
	@scripts/install-sandbox.sh

chromium: ## Install headless Chromium for the timeline page's browser test (as root; otherwise says what is missing)
	@scripts/install-chromium.sh

check: sandbox chromium lint unit build ## Everything CI runs: lint, kit tests, every lab group, the contract mutants, the grader end to end, the handout, the CI self-check, the portable path
	$(RELEASE_BUILD)
	$(RELEASE_DIR)/grader run --out target/check-grade $(GRADE_ARGS)
	$(MAKE) --no-print-directory contract
	$(MAKE) --no-print-directory grader-e2e
	@if [ -d handout ]; then $(CARGO) run -q -p xtask -- test-handout; fi
	@if [ -d selfcheck ]; then $(MAKE) --no-print-directory selfcheck-ci; fi
	$(MAKE) --no-print-directory portable

# The portable path is what macOS runs: process groups and a parent watch instead of the
# parent-death signal and /proc, no-follow opens one folder at a time instead of openat2, no
# sandbox. LAB_PORTABLE=1 forces it on Linux, so that CI runs it. What this cannot show: that the
# kit compiles and behaves on macOS itself (CI has no macOS). The grader is Linux-only: its tests
# run on the Linux path (make unit); xtask is the kit's own tooling.
portable: build ## The student commands on the portable path (macOS's), forced on Linux: kit tests, groups 2A-2D, repeat mode
	@echo "== portable path: the kit's tests of the no-follow reads, sockets, process ties and labs logs"
	LAB_PORTABLE=1 $(CARGO) test -q --workspace --exclude grader --exclude xtask --lib --bins
	$(CARGO) build -q -p node
	LAB_PORTABLE=1 $(CARGO) test -q -p labs --test tools --test setup --test no_orphans
	@echo "== portable path: groups 2A-2D"
	LAB_PORTABLE=1 $(RELEASE_DIR)/labs --jobs auto --skip 3A --skip 3B
	@echo "== portable path: repeat mode"
	LAB_PORTABLE=1 $(RELEASE_DIR)/labs --repeat 4 --jobs auto InitialElection2A --exact
	@echo "portable path: passed"

bench-proxy: ## Proxy latency and throughput versus a direct socket
	$(CARGO) bench -p harness --bench proxy

bench-spawn: sandbox ## Node spawn-to-ready, plain and sandboxed (the sandbox needs root)
	$(CARGO) build --release -p node
	$(CARGO) bench -p harness --bench spawn

bench-checker: ## The linearizability checker on the public histories in ../shared, and the versioned KV model against the KV one
	$(CARGO) bench -p lincheck --bench histories
	$(CARGO) bench -p lincheck --bench versioned

grader-e2e: ## The grader's slow end-to-end tests (the reference, a broken raft, hostile fixtures; sandboxed as root)
	$(RELEASE_BUILD)
	@scripts/install-sandbox.sh
	$(RELEASE_DIR)/grader kit target/grading-kit
	$(CARGO) test -p grader --test e2e --test kit -- --ignored --test-threads 1

handout: ## Write the student handout (skeleton raft/ and kvraft/) to target/handout/, with a tarball
	$(CARGO) run -q -p xtask -- handout target/handout

test-handout: ## Build the handout; every lab test must fail cleanly against the skeletons
	$(CARGO) run -q -p xtask -- test-handout

# The self-check's tools: the grader, the reference tester, and the grading kit the mutants' nodes build from.
SELFCHECK_TOOLS = $(RELEASE_BUILD) && \
  { $(RELEASE_DIR)/grader kit target/grading-kit >target/grading-kit.log 2>&1 || { cat target/grading-kit.log; false; }; }

selfcheck: ## Mutation-test the lab tests: every mutant x the groups that teach it, then the kill matrix (target/selfcheck/); correct variants must pass
	$(SELFCHECK_TOOLS)
	$(RELEASE_DIR)/grader selfcheck $(SELFCHECK_ARGS)
	$(RELEASE_DIR)/grader selfcheck --catalogue selfcheck/variants --out target/selfcheck-variants

selfcheck-ci: ## Reduced self-check: every mutant x the test that kills it fastest (a mutant builds in about 5 s, incrementally from the reference)
	$(SELFCHECK_TOOLS)
	$(RELEASE_DIR)/grader selfcheck --ci $(SELFCHECK_ARGS)
	$(RELEASE_DIR)/grader selfcheck --ci --catalogue selfcheck/variants --out target/selfcheck-variants

contract: ## The tester's contract checks: each broken crate of selfcheck/contract/ must fail its test with the message its diagnosis lines name
	$(SELFCHECK_TOOLS)
	$(RELEASE_DIR)/grader selfcheck --ci --catalogue selfcheck/contract --out target/selfcheck-contract

clean: ## Remove build output
	$(CARGO) clean
