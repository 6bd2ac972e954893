#!/usr/bin/env bash
# The self-check: mutation testing of the lab tests. Each mutant of the
# catalogue (selfcheck/mutants/*.mut) reintroduces one classic bug into a
# scratch copy of the reference raft/kvraft; the kit is built with it (through
# scripts/swap-build.sh) and the groups that teach that bug are run against
# it. A group kills a mutant when one of its tests fails; the tests run one
# by one, in catalogue order, and the group stops at its first failure.
#
#   scripts/selfcheck.sh [--ci] [--rounds N] [--mutants a,b,…] [--check]
#
#   (default)   the full matrix: every mutant × every group listed in its `groups:`
#   --ci        the reduced matrix: every mutant × only the test(s) in its `ci:`
#   --rounds N  run the matrix N times (a mutant must die on every round)
#   --mutants   only these mutants
#   --check     only check that every mutant still applies to the reference (no build)
#
# Prints the kill matrix (mutant × group: the test that killed it, or SURVIVED)
# and writes it to $SELFCHECK_ROOT/matrix.tsv (default target/selfcheck), with
# each run's output in $SELFCHECK_ROOT/logs/. Exit status 0 when every mutant
# was killed on every round, 1 when one survived, 2 when the check could not run.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
mode=full; rounds=1; only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --ci) mode=ci ;;
    --rounds) rounds=${2:?--rounds N}; shift ;;
    --mutants) only=${2:?--mutants a,b}; shift ;;
    --check) exec python3 selfcheck/mutate.py check "$root" ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "selfcheck: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
work=${SELFCHECK_ROOT:-$root/target/selfcheck}
# One scratch build, kept: only the mutated crates rebuild ($SELFCHECK_SWAP overrides it).
export SWAP_ROOT=${SELFCHECK_SWAP:-$work/swap}
# A test still running after this is stopped (the labs watchdog stops it at 150 s).
TEST_LIMIT_SECS=${SELFCHECK_TEST_LIMIT:-200}
mkdir -p "$work/logs"
python3 selfcheck/mutate.py check "$root" >/dev/null || exit 2

catalogue=$(python3 selfcheck/mutate.py list) || exit 2
if [ -n "$only" ]; then
  catalogue=$(echo "$catalogue" | awk -F'\t' -v only=",$only," 'index(only, "," $1 ",")')
  [ -n "$catalogue" ] || { echo "selfcheck: no mutant named in $only" >&2; exit 2; }
fi

# Every test a mutant names must exist: a filter that matches nothing
# "passes", and would report a false survivor. Checked with the first build.
check_ci_tests() {
  local known missing
  known=$("$labs" --catalogue | python3 -c 'import json, sys; print("\n".join(t["id"] for t in json.load(sys.stdin)))')
  missing=$(echo "$catalogue" | cut -f3 | tr ' ' '\n' | sort -u | grep -vxF "$known")
  if [ -n "$missing" ]; then
    echo "selfcheck: tests named in the mutants' ci: lines but not in the lab catalogue: $(echo $missing)" >&2
    exit 2
  fi
}
checked=0

matrix=$work/matrix.tsv
printf 'round\tmutant\tgroup\tresult\tkilled_by\tseconds\n' >"$matrix"
started=$(date +%s)
tests_of_group() { # group → its tests, in catalogue order
  "$labs" --catalogue | python3 -c '
import json, sys
for t in json.load(sys.stdin):
    if t["group"] == sys.argv[1]:
        print(t["id"])' "$1"
}

# Runs tests one by one until one fails; prints the one that failed, if any.
first_failure() { # mutant, round, tests…
  local mutant=$1 round=$2; shift 2
  local t status
  for t in "$@"; do
    local log_file="$work/logs/$mutant.r$round.$t.log"
    (cd "$SWAP_ROOT/src" && nice -n 10 timeout --kill-after=10 "$TEST_LIMIT_SECS" "$labs" "$t" --exact) \
      >"$log_file" 2>&1
    status=$?
    # Failing tests keep their directories under /tmp; the logs here suffice.
    grep -oE 'test directory: /tmp/rl-[A-Za-z0-9]+' "$log_file" | awk '{print $3}' | sort -u | xargs -r rm -rf
    if [ $status -ne 0 ]; then
      echo "$t"
      return
    fi
  done
}

echo "selfcheck: $mode matrix, $(echo "$catalogue" | wc -l) mutants, $rounds round(s); logs in $work/logs" >&2
for round in $(seq 1 "$rounds"); do
  while IFS=$'\t' read -r name groups ci bug; do
    mutant_dir=$work/mutants/$name
    mkdir -p "$mutant_dir"
    python3 selfcheck/mutate.py apply "$root" "$name" "$mutant_dir" || exit 2
    echo "== round $round: $name — $bug" >&2
    if ! labs=$(nice -n 10 scripts/swap-build.sh "$mutant_dir/raft" "$mutant_dir/kvraft" 2>"$work/logs/$name.build.log"); then
      echo "selfcheck: mutant $name does not build (see $work/logs/$name.build.log); fix its edits" >&2
      tail -20 "$work/logs/$name.build.log" >&2
      exit 2
    fi
    [ $checked -eq 1 ] || { check_ci_tests; checked=1; }
    if [ "$mode" = ci ]; then
      units=("ci:$ci")
    else
      read -ra units <<<"$groups"
    fi
    for unit in "${units[@]}"; do
      t0=$(date +%s)
      if [ "$mode" = ci ]; then
        group=ci; read -ra tests <<<"${unit#ci:}"
      else
        group=$unit; mapfile -t tests < <(tests_of_group "$group")
      fi
      killer=$(first_failure "$name" "$round" "${tests[@]}")
      secs=$(( $(date +%s) - t0 ))
      if [ -n "$killer" ]; then result=killed; else result=SURVIVED; fi
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$name" "$group" "$result" "${killer:--}" "$secs" >>"$matrix"
      echo "   $group: $result${killer:+ by $killer} (${secs} s)" >&2
    done
  done <<<"$catalogue"
done

# The kill matrix: one row per mutant, one column per group (or "ci"); a cell
# is the test that killed the mutant (the distinct killers over the rounds,
# joined by "/"), or SURVIVED.
python3 - "$matrix" "$rounds" <<'EOF'
import collections, sys
path, rounds = sys.argv[1], int(sys.argv[2])
rows = [line.rstrip("\n").split("\t") for line in open(path)][1:]
cells = collections.OrderedDict()
columns = []
for rnd, mutant, group, result, killer, secs in rows:
    if group not in columns:
        columns.append(group)
    cells.setdefault(mutant, {}).setdefault(group, []).append(killer if result == "killed" else "SURVIVED")
order = ["2A", "2B", "2C", "2D", "3A", "3B", "ci"]
columns.sort(key=lambda g: order.index(g) if g in order else len(order))
width = max([len(m) for m in cells] + [6])
def cell(m, g):
    runs = cells[m].get(g)
    if not runs:
        return "-"
    names = sorted(set(runs), key=runs.index)
    return "/".join(names)
colw = {g: max([len(g)] + [len(cell(m, g)) for m in cells]) for g in columns}
print()
print("kill matrix (%d round%s): the test that killed each mutant, per group" % (rounds, "" if rounds == 1 else "s"))
print("  " + "mutant".ljust(width) + "  " + "  ".join(g.ljust(colw[g]) for g in columns))
for m in cells:
    print("  " + m.ljust(width) + "  " + "  ".join(cell(m, g).ljust(colw[g]) for g in columns))
survived = sorted({(m, g) for _, m, g, r, _, _ in rows if r != "killed"})
total = len(cells)
print()
if survived:
    print("SURVIVORS: " + ", ".join(f"{m} ({g})" for m, g in survived))
else:
    print(f"all {total} mutants killed in every group they were run against, on every round")
EOF
echo "selfcheck: $(( $(date +%s) - started )) s; matrix in $matrix" >&2
# A mutant whose file has a `known:` line is a recorded finding (see
# selfcheck/README.md): it is reported, but only new survivors fail the check.
known=$(grep -l '^known:' selfcheck/mutants/*.mut 2>/dev/null | xargs -r -n1 basename | sed 's/\.mut$//')
new_survivors=$(awk -F'\t' '$4 == "SURVIVED" {print $2}' "$matrix" | sort -u | grep -vxF "${known:-@none@}")
[ -n "$known" ] && echo "selfcheck: known survivors (recorded findings, not failures): $(echo $known)" >&2
if [ -n "$new_survivors" ]; then
  echo "selfcheck: new survivors: $(echo $new_survivors)" >&2
  exit 1
fi
