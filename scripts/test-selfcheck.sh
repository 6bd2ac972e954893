#!/usr/bin/env bash
# The self-check's own test (no build, a few seconds): the mutant catalogue
# parses, covers the classic bug classes, applies to the reference without
# touching it, and a mutant whose anchor has drifted fails loudly.
#
#   scripts/test-selfcheck.sh
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0; failed=0
check() { # description, condition
  if eval "$2"; then passed=$((passed+1)); echo "ok: $1"; else failed=$((failed+1)); echo "FAILED: $1"; fi
}

sums() { find raft kvraft -path '*/target' -prune -o -type f -print0 | sort -z | xargs -0 sha256sum; }
before=$(sums)
python3 selfcheck/mutate.py check "$root" >"$tmp/check" 2>&1
status=$?
check "every mutant applies to the reference" '[ $status -eq 0 ]'
[ $status -eq 0 ] || cat "$tmp/check"
SELFCHECK_MUTANTS=selfcheck/contract python3 selfcheck/mutate.py check "$root" >"$tmp/contract" 2>&1
status=$?
check "every contract fixture (selfcheck/contract) applies to the reference" '[ $status -eq 0 ]'
[ $status -eq 0 ] || cat "$tmp/contract"
SELFCHECK_MUTANTS=selfcheck/survivors python3 selfcheck/mutate.py check "$root" >"$tmp/survivors" 2>&1
status=$?
check "every audited survivor (selfcheck/survivors) applies to the reference" '[ $status -eq 0 ]'
[ $status -eq 0 ] || cat "$tmp/survivors"
list=$(python3 selfcheck/mutate.py list)
names=$(echo "$list" | cut -f1)
for want in no-prev-check vote-any-log vote-longest-log commit-old-term backup-one-by-one no-persist \
            no-persist-log no-persist-term no-persist-vote persist-after-reply heartbeat-flood \
            snapshot-off-by-one reapply-after-restart install-drops-suffix kv-no-dedup kv-local-get \
            kv-snapshot-no-dedup stale-append-truncates timer-reset-any-rpc append-stale-term \
            install-old-snapshot kv-wait-forever vote-from-earlier-election leader-ignores-higher-term \
            append-reply-old-term kv-any-op-at-index; do
  check "the catalogue has $want" 'grep -qx "$want" <<<"$names"'
done
bad=$(awk -F'\t' '$2 !~ /^(2[ABCD]|3[AB])( (2[ABCD]|3[AB]))*$/ || $3 == "" { print $1 }' <<<"$list")
check "every mutant names its groups (2A-3B) and CI tests" '[ -z "$bad" ]'
labs=target/release/labs
if [ -x "$labs" ]; then
  ids=$("$labs" --catalogue | grep -oE '"id": *"[A-Za-z0-9]+"' | sed -E 's/.*"([A-Za-z0-9]+)"$/\1/')
  unknown=$(echo "$list" | cut -f3 | tr ' ' '\n' | sort -u | grep -vxF "$ids")
  check "every CI test is in the lab catalogue" '[ -z "$unknown" ]'
  [ -z "$unknown" ] || echo "  not in the catalogue: $unknown"
fi

# Each mutant changes its crate, and only a scratch copy.
for name in $names; do
  python3 selfcheck/mutate.py apply "$root" "$name" "$tmp/m" 2>"$tmp/err"
  check "$name applies and changes the code" \
    '! diff -r --exclude=target raft "$tmp/m/raft" >/dev/null || ! diff -r --exclude=target kvraft "$tmp/m/kvraft" >/dev/null'
done
check "the reference crates are untouched" '[ "$before" = "$(sums)" ]'

# A drifted anchor is an error that names the mutant and the file.
mkdir -p "$tmp/cat"
cat >"$tmp/cat/rotten.mut" <<'MUT'
name: rotten
bug: an anchor that is not in the reference
groups: 2A
ci: InitialElection2A
edit raft/src/election.rs
<<<<
    this line is not in the reference
====
>>>>
MUT
SELFCHECK_MUTANTS=$tmp/cat python3 selfcheck/mutate.py check "$root" >"$tmp/rot" 2>&1
status=$?
check "a drifted anchor fails the check (exit 3)" '[ $status -eq 3 ]'
check "… naming the mutant, the anchor and the file" \
  'grep -q "mutant rotten: the anchor starting .this line is not in the reference. occurs 0 times in raft/src/election.rs" "$tmp/rot"'
cat >"$tmp/cat/rotten.mut" <<'MUT'
name: rotten
bug: no groups line
edit raft/src/election.rs
<<<<
x
====
>>>>
MUT
SELFCHECK_MUTANTS=$tmp/cat python3 selfcheck/mutate.py check "$root" >"$tmp/rot" 2>&1
status=$?
check "a malformed mutant is rejected" '[ $status -eq 3 ] && grep -q "missing .groups:." "$tmp/rot"'

echo "selfcheck catalogue: $passed passed, $failed failed"
[ $failed -eq 0 ]
