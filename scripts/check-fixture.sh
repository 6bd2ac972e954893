#!/usr/bin/env bash
# The tests can fail: run tests against deliberately broken crates, through the
# RAFT= / KVRAFT= swap, and require failing runs whose output names the problem.
#
#   raft-all-leaders   every peer claims to lead term 1        -> InitialElection2A
#   new-dependency     a crate the kit does not have           -> the grader's build message
#   kv-no-dedup        retried Put/Append applied again        -> UnreliableOneKey3A
#   kv-local-get       the leader answers Get from local state -> OnePartition3A
#
# and one broken crate per contract check the tester makes on every event:
#
#   apply-twice             an entry applied twice        -> BasicAgree2B
#   double-leader-at-start  every peer leads term 0 until its first election,
#                           which no poll sees            -> InitialElection2A
#   install-old-snapshot    a snapshot older than what the service applied
#                                                         -> OldSnapshot2D
#   stuck-vote              a refused RequestVote never answered
#                                                         -> Figure8Unreliable2C
#   snapshot-not-redelivered  a restarted peer skips its saved snapshot and
#                           goes on with the entries after it -> SnapshotInit2D
#   leader-by-claim         state() says node 0 leads term 1; no election, no
#                           RPC at all (passed InitialElection2A before the
#                           leader-acts check)             -> InitialElection2A
#
# The broken crates are made from the reference by the self-check's mutants
# (selfcheck/mutants/*.mut, selfcheck/contract/*.mut), so they never drift
# from it.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
passed=0; failed=0
check() { # description, condition
  if eval "$2"; then passed=$((passed+1)); echo "ok: $1"; else failed=$((failed+1)); echo "FAILED: $1"; show=1; fi
}
run() { # make arguments…
  show=0
  make --no-print-directory "$@" >"$out" 2>&1
  status=$?
}
dump() { [ "$show" = 1 ] && { echo "--- output:"; tail -80 "$out"; }; }

run test-2A RAFT=fixtures/raft-all-leaders TEST=InitialElection2A
check "2A fails against raft-all-leaders" '[ $status -ne 0 ]'
check "the diagnosis names the two leaders of one term" 'grep -Eq "term 1 has 3 \(>1\) leaders|two leaders in term 1" "$out"'
check "the diagnosis gives the seed to replay" 'grep -q "LAB_SEED=" "$out"'
check "the diagnosis quotes the node logs" 'grep -q "last lines of each node" "$out"'
dump

# A local build is a grading build: a crate that adds a dependency fails here
# with the grader's own message, before any test runs.
run test-2A RAFT=grader/fixtures/new-dependency TEST=InitialElection2A
check "a crate with a new dependency fails locally" '[ $status -ne 0 ]'
check "with the grader's own message" 'grep -q "grader build: the submission uses a dependency the kit does not have" "$out"'
check "and no test ran" '! grep -q "^test result" "$out"'
dump

if [ -d selfcheck ]; then
  made="$root/target/fixtures"
  rm -rf "$made" && mkdir -p "$made"
  ${CARGO:-cargo} build --release -q -p grader || { echo "cannot build the grader"; exit 2; }
  mutant() { # catalogue, name: writes $made/name/{raft,kvraft}
    target/release/grader mutant apply "$2" "$made/$2" --catalogue "$1" >/dev/null \
      || { echo "cannot make the $2 crate"; exit 2; }
  }
  for m in kv-no-dedup kv-local-get install-old-snapshot; do
    mutant selfcheck/mutants "$m"
  done
  for m in apply-twice double-leader-at-start stuck-vote snapshot-not-redelivered leader-by-claim; do
    mutant selfcheck/contract "$m"
  done

  run test-2B RAFT="$made/apply-twice/raft" TEST=BasicAgree2B
  check "2B fails against apply-twice" '[ $status -ne 0 ]'
  check "the diagnosis says an index was applied again" 'grep -q "applied index [0-9]* (term [0-9]*) again or backwards" "$out"'
  dump

  run test-2A RAFT="$made/double-leader-at-start/raft" TEST=InitialElection2A
  check "2A fails against double-leader-at-start" '[ $status -ne 0 ]'
  check "the diagnosis names the two leaders of term 0, reported as it happened" 'grep -q "two leaders in term 0: .*said so as it happened" "$out"'
  dump

  run test-2A RAFT="$made/leader-by-claim/raft" TEST=InitialElection2A
  check "2A fails against leader-by-claim" '[ $status -ne 0 ]'
  check "the diagnosis says node 0 claims term 1 and sent no AppendEntries" 'grep -q "node 0 has said it leads term 1 for [0-9.]* s, yet since it could have become its leader it has sent no AppendEntries (nor InstallSnapshot) to node 1, node 2" "$out"'
  dump

  run test-2D RAFT="$made/install-old-snapshot/raft" TEST=OldSnapshot2D
  check "2D fails against install-old-snapshot" '[ $status -ne 0 ]'
  check "the diagnosis says the snapshot is older than what was applied" 'grep -q "was sent a snapshot at index [0-9]*, older than the index [0-9]* it already applied" "$out"'
  dump

  run test-2D RAFT="$made/snapshot-not-redelivered/raft" TEST=SnapshotInit2D
  check "2D fails against snapshot-not-redelivered" '[ $status -ne 0 ]'
  check "the diagnosis says the saved snapshot was not delivered first" 'grep -q "restarted from its saved snapshot (index [0-9]*) and applied index [0-9]* (term [0-9]*) before delivering that snapshot" "$out"'
  dump

  run test-2C RAFT="$made/stuck-vote/raft" TEST=Figure8Unreliable2C
  check "2C fails against stuck-vote" '[ $status -ne 0 ]'
  check "the diagnosis names the handler that never answers" 'grep -q "a Raft.RequestVote handler has not answered after" "$out"'
  dump

  run test-3A KVRAFT="$made/kv-no-dedup/kvraft" TEST=UnreliableOneKey3A
  check "3A fails against kv-no-dedup" '[ $status -ne 0 ]'
  check "the diagnosis names a duplicated append" 'grep -Eq "duplicate element|not linearizable|wrong value" "$out"'
  dump

  run test-3A KVRAFT="$made/kv-local-get/kvraft" TEST=OnePartition3A
  check "3A fails against kv-local-get" '[ $status -ne 0 ]'
  check "the diagnosis says a read completed in the minority" 'grep -q "Get in minority completed" "$out"'
  check "a test body's own failure shows the recent timeline" 'grep -q "recent events:" "$out"'
  dump
fi

echo "fixtures: $passed passed, $failed failed"
[ $failed -eq 0 ]
