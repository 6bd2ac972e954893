#!/usr/bin/env bash
# The handout test: make the handout, check that it holds the kit and not the
# reference solution, build it as a student would, lint the skeletons, and run
# every lab test against them: each must fail, quickly, quoting the node's
# "not yet implemented" panic — never pass, hang or crash the harness.
#
#   scripts/test-handout.sh
#
# Build output goes to $HANDOUT_TARGET (default target/handout-build), kept
# between runs. Exit status 0 when every check passed.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=$root/target/handout-test
export CARGO_TARGET_DIR=${HANDOUT_TARGET:-$root/target/handout-build}
# Every lab test against the skeletons must be over within this (each fails
# at its first node start; a hang would hit it).
RUN_LIMIT_SECS=${HANDOUT_RUN_LIMIT:-180}
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

passed=0; failed=0
check() { # description, condition
  if eval "$2"; then passed=$((passed+1)); echo "ok: $1"; else failed=$((failed+1)); echo "FAILED: $1"; fi
}
finish() {
  echo "handout: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
}

# 1. Make it.
if ! dest=$(scripts/make-handout.sh "$out" 2>"$log/make.err"); then
  cat "$log/make.err"
  check "make-handout.sh succeeds" false
  finish
fi
check "make-handout.sh prints the folder" '[ "$dest" = "$out/raftlab-handout" ] && [ -d "$dest" ]'
check "the tarball holds the skeleton" \
  'tar -tzf "$out/raftlab-handout.tar.gz" | grep -x "raftlab-handout/raft/src/lib.rs" >/dev/null'

# 2. What it holds.
check "raft/ is the skeleton" 'diff -r "$root/handout/raft" "$dest/raft" >/dev/null'
check "kvraft/ is the skeleton" 'diff -r "$root/handout/kvraft" "$dest/kvraft" >/dev/null'
check "the student guide is STUDENT.md" 'cmp -s "$root/handout/README.md" "$dest/STUDENT.md"'
check "no reference tests or sources" '[ ! -e "$dest/raft/tests" ] && [ ! -e "$dest/kvraft/tests" ] && [ ! -e "$dest/raft/src/leader.rs" ]'
check "no mutants, skeleton folder, build output or history" \
  '! ls -d "$dest/selfcheck" "$dest/handout" "$dest/target" "$dest/.git" 2>/dev/null | grep -q .'
for kit in labrpc control node harness labs lincheck Makefile README.md Cargo.toml rustfmt.toml \
           scripts/swap-build.sh fixtures/raft-all-leaders; do
  check "$kit is the kit's, unchanged" 'diff -r --exclude=target "$root/$kit" "$dest/$kit" >/dev/null'
done
check "the grader is in the handout" '[ -f "$dest/grader/Cargo.toml" ] && [ -d "$dest/grader/src" ]'
check "no reference definitions anywhere" \
  '! grep -rqE "fn (next_index_after_reject|accept_append|decide_vote|advance_commit|is_duplicate)\b" "$dest"'

# 3. It builds as a student gets it, and the skeletons are lint-clean.
(cd "$dest" && nice -n 10 cargo build --release -p node -p labs) >"$log/build" 2>&1
status=$?
check "the handout builds (cargo build --release -p node -p labs)" '[ $status -eq 0 ]'
[ $status -eq 0 ] || { tail -40 "$log/build"; finish; }
check "the skeletons build without warnings" '! grep -A3 "^warning" "$log/build" | grep -qE "(raft|kvraft)/src"'
(cd "$dest" && cargo fmt -p raft -p kvraft -- --check) >"$log/fmt" 2>&1
status=$?
check "the skeletons are rustfmt-clean" '[ $status -eq 0 ]'
(cd "$dest" && nice -n 10 cargo clippy -p raft -p kvraft --all-targets -- -D warnings) >"$log/clippy" 2>&1
status=$?
check "the skeletons are clippy-clean" '[ $status -eq 0 ]'
[ $status -eq 0 ] || tail -30 "$log/clippy"

# 4. Every test fails cleanly against the skeletons.
labs=$CARGO_TARGET_DIR/release/labs
ids=$("$labs" --catalogue | grep -oE '"id": *"[A-Za-z0-9]+"' | sed -E 's/.*"([A-Za-z0-9]+)"$/\1/')
total=$(echo "$ids" | wc -l)
start=$(date +%s)
# The failing tests' folders go under $log (removed on exit), not /tmp.
(cd "$dest" && LAB_ARTIFACTS="$log/artifacts" timeout --kill-after=10 "$RUN_LIMIT_SECS" "$labs") >"$log/run" 2>&1
status=$?
secs=$(( $(date +%s) - start ))
check "the run ends by itself within ${RUN_LIMIT_SECS} s (took ${secs} s)" '[ $status -ne 124 ] && [ $status -ne 137 ]'
check "the run fails" '[ $status -ne 0 ]'
check "all $total tests ran and failed, none passed" \
  'grep -qE "test result: FAILED\. 0 passed; $total failed" "$log/run"'
# Each failure section (---- Name ---- … up to the next) must quote the panic.
unclear=$(awk '
  /^---- [A-Za-z0-9]+ ----$/ { if (name != "" && !ok) print name; name = $2; ok = 0; next }
  /^failures:$/ { if (name != "" && !ok) print name; name = ""; next }
  name != "" && /node [0-9]+ panicked: not yet implemented: [A-Za-z]+::[a-z_]+/ { ok = 1 }
  END { if (name != "" && !ok) print name }' "$log/run")
sections=$(grep -cE '^---- [A-Za-z0-9]+ ----$' "$log/run")
check "each of the $total failures quotes \"node N panicked: not yet implemented: …\" ($sections sections)" \
  '[ "$sections" -eq "$total" ] && [ -z "$unclear" ]'
[ -z "$unclear" ] || echo "  without the quote: $unclear"
check "no harness crash" '! grep -qE "panicked at (harness|labs)/|harness bug" "$log/run"'
if [ $failed -ne 0 ]; then
  echo "--- last lines of the run:"; tail -40 "$log/run"
fi
finish
