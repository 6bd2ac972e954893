#!/usr/bin/env bash
# The tests can fail: run 2A against a deliberately broken raft crate (every
# peer claims to lead term 1), through the RAFT= swap, and require a failing
# run whose output names the problem.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
make --no-print-directory test-2A RAFT=fixtures/raft-all-leaders TEST=InitialElection2A >"$out" 2>&1
status=$?
passed=0; failed=0
check() { # description, condition
  if eval "$2"; then passed=$((passed+1)); echo "ok: $1"; else failed=$((failed+1)); echo "FAILED: $1"; fi
}
check "2A fails against raft-all-leaders" '[ $status -ne 0 ]'
check "the diagnosis names the two leaders of one term" 'grep -Eq "term 1 has 3 \(>1\) leaders|two leaders in term 1" "$out"'
check "the diagnosis gives the seed to replay" 'grep -q "LAB_SEED=" "$out"'
check "the diagnosis quotes the node logs" 'grep -q "last lines of each node" "$out"'
if [ $failed -ne 0 ]; then
  echo "--- output of the fixture run:"; cat "$out"
fi
echo "fixtures: $passed passed, $failed failed"
[ $failed -eq 0 ]
