#!/usr/bin/env bash
# The handout test: make the handout, check that it holds the kit and not the
# kit's own raft/ and kvraft/, that its front page is the student guide and
# that none of its texts speaks of a reference solution, build it as a
# student would, lint the skeletons, and run every lab test against them: each
# must fail, quickly, quoting the node's "not yet implemented" panic — never
# pass, hang or crash the harness.
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
check "README.md is the student guide" 'cmp -s "$root/handout/README.md" "$dest/README.md" && [ ! -e "$dest/STUDENT.md" ]'
check "the pristine skeletons are there for the grading kit" \
  'diff -r "$root/handout/raft" "$dest/handout/raft" >/dev/null && diff -r "$root/handout/kvraft" "$dest/handout/kvraft" >/dev/null'
check "the grading kit can be made in the handout (make grade SUBMISSION=… needs it)" \
  '(cd "$dest" && "$root/target/release/grader" kit --workspace "$dest" "$dest/target/grading-kit") >"$log/grading-kit" 2>&1'
check "no tests or sources of the kit's own crates" \
  '[ ! -e "$dest/raft/tests" ] && [ ! -e "$dest/kvraft/tests" ] && [ ! -e "$dest/raft/src/leader.rs" ]'
check "no mutants, skeleton folder, build output or history" \
  '! ls -d "$dest/selfcheck" "$dest/handout" "$dest/target" "$dest/.git" 2>/dev/null | grep -q .'
# What only course staff use, left out on purpose (the kit's README is
# replaced by the student guide).
staff_only="docs/trust-boundary.md docs/adding-a-lab.md docs/ci grader/README.md grader/tests/e2e.rs grader/tests/mutant.rs
  grader/fixtures node/tests/contract_docs.rs scripts/check-portable.sh
  scripts/make-handout.sh scripts/test-handout.sh"
left_out() { case " $(echo $staff_only) " in *" $1 "*) return 0 ;; esac; return 1; }
present=$(for p in $staff_only; do [ -e "$dest/$p" ] && echo "$p"; done)
check "the course staff's files are left out" '[ -z "$present" ]'
[ -z "$present" ] || echo "  still there: $present"
# The handout's copy of the kit's $1 (a file or a folder) is the kit's: each
# file the same or reworded by handout/wording.pl and nothing else, or left
# out on purpose. Prints what is not.
kit_copy() {
  local line a b bad=0
  while IFS= read -r line; do
    case "$line" in
      "Files "*" differ")
        a=${line#Files }; a=${a%% and *}; b=${line##* and }; b=${b% differ}
        if ! perl -0777 -p "$root/handout/wording.pl" "$a" | cmp -s - "$b"; then
          echo "  changed beyond handout/wording.pl: ${a#"$root"/}"; bad=1
        fi ;;
      "Only in $root/"*)
        a=${line#Only in }; a="${a%%: *}/${a#*: }"; a=${a#"$root"/}
        left_out "$a" || { echo "  left out: $a"; bad=1; } ;;
      *) echo "  $line"; bad=1 ;;
    esac
  done < <(diff -rq --exclude=target "$root/$1" "$dest/$1" 2>&1)
  return $bad
}
for kit in labrpc control platform node harness labs lincheck grader docs scripts Cargo.toml Cargo.lock rustfmt.toml; do
  check "$kit is the kit's (reworded where handout/wording.pl says)" 'kit_copy "$kit"'
done
check "the grader is in the handout" '[ -f "$dest/grader/Cargo.toml" ] && [ -d "$dest/grader/src" ]'
check "no definitions of the kit's own crates anywhere" \
  '! grep -rqE "fn (next_index_after_reject|accept_append|decide_vote|advance_commit|is_duplicate)\b" "$dest"'

# The Makefile: the students' targets, without the ones that need what is
# left out.
help=$(make -C "$dest" --no-print-directory help 2>&1)
check "make help lists the students' targets" \
  '( for t in build test test-2A test-2B test-2C test-2D test-3A test-3B grade lint; do
       grep -qE "^  make $t " <<<"$help" || exit 1; done )'
check "make help lists no target that needs what is left out" \
  '! grep -qE "^  make (check|grader-e2e|handout|test-handout|selfcheck|selfcheck-ci|contract|bench-checker|portable) " <<<"$help"'
check "the Makefile still reads (make -n test-2A grade)" \
  'make -C "$dest" --no-print-directory -n test-2A grade >/dev/null 2>&1'

# 2b. No text of the handout speaks of a solution of the course's own: each
# line of every text file (and each phrase broken over two lines of a
# comment). In lincheck, "the reference" is porcupine, the Go checker it
# reproduces, and stays.
wording=$(cd "$dest" && find . -path ./target -prune -o -type f -print | sed 's|^\./||' | sort | perl -e '
  my $noun = qr/(?:solutions?|implementations?|raft|kv\w*|crates?|tester|labs|ones?)\b/i;
  my $named = qr/\b(?:reference|staff|official|sample|instructor(?:\x27s)?)\s+[`\x27"]?$noun/i;
  my $bare = qr/\b(?:the|a|our)\s+reference\b(?:\x27s)?(?![\s-]*(?:checker|count))/i;
  while (my $f = <STDIN>) {
    chomp $f;
    next if -B $f;
    open my $in, "<", $f or next;
    my $tail = "";
    while (my $line = <$in>) {
      chomp $line;
      (my $body = $line) =~ s{^\s*(?://[/!]?|#|\*|--)?\s*}{};
      my $joined = "$tail $body";
      my $hit = 0;
      for my $re ($named, $f =~ m{^lincheck/} ? () : $bare) {
        while ($joined =~ /$re/g) { $hit = 1 if $+[0] > length($tail) + 1 }
      }
      print "$f:$.: $line\n" if $hit;
      my @w = split " ", $body;
      $tail = join " ", @w > 2 ? @w[-2, -1] : @w;
    }
    close $in;
  }')
check "no text of the handout speaks of a reference solution, Raft or KV" '[ -z "$wording" ]'
[ -z "$wording" ] || sed 's/^/  /' <<<"$wording" | head -40

# 3. It builds as a student gets it, and the skeletons are lint-clean.
(cd "$dest" && nice -n 10 cargo build --release -p node -p labs -p grader) >"$log/build" 2>&1
status=$?
check "the handout builds (cargo build --release -p node -p labs -p grader)" '[ $status -eq 0 ]'
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
