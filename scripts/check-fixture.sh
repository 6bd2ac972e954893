#!/usr/bin/env bash
# The tests can fail: run tests against deliberately broken crates, through the
# RAFT= / KVRAFT= swap, and require failing runs whose output names the problem.
#
#   raft-all-leaders   every peer claims to lead term 1        -> InitialElection2A
#   kv-no-dedup        retried Put/Append applied again        -> UnreliableOneKey3A
#   kv-local-get       the leader answers Get from local state -> OnePartition3A
#
# The two broken kvraft crates are made from the reference by the self-check's
# mutants (selfcheck/mutants/kv-*.mut), so they never drift from it.
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

if [ -d selfcheck ]; then
  made="$root/target/fixtures"
  rm -rf "$made" && mkdir -p "$made"
  for m in kv-no-dedup kv-local-get; do
    python3 selfcheck/mutate.py apply . "$m" "$made/$m" >/dev/null || { echo "cannot make the $m crate"; exit 2; }
  done

  run test-3A KVRAFT="$made/kv-no-dedup/kvraft" TEST=UnreliableOneKey3A
  check "3A fails against kv-no-dedup" '[ $status -ne 0 ]'
  check "the diagnosis names a duplicated append" 'grep -Eq "duplicate element|not linearizable|wrong value" "$out"'
  dump

  run test-3A KVRAFT="$made/kv-local-get/kvraft" TEST=OnePartition3A
  check "3A fails against kv-local-get" '[ $status -ne 0 ]'
  check "the diagnosis says a read completed in the minority" 'grep -q "Get in minority completed" "$out"'
  dump
fi

echo "fixtures: $passed passed, $failed failed"
[ $failed -eq 0 ]
