#!/usr/bin/env bash
# Writes the student handout: the kit with its own raft/ and kvraft/ replaced
# by the skeletons in handout/, and the student guide (handout/README.md) as
# its README.md, as a folder and a tarball. The skeletons are also kept,
# pristine, in handout/raft and handout/kvraft: what the grading kit builds
# from (`make grade SUBMISSION=…`).
#
#   scripts/make-handout.sh [OUT_DIR]     (default: target/handout)
#
# Produces OUT_DIR/raftlab-handout/ and OUT_DIR/raftlab-handout.tar.gz, and
# prints the folder's path on stdout. Left out: the kit's own crates, the
# self-check's mutants (fragments of them), the guide's source and rewording
# rules (handout/README.md, handout/wording.pl), this script and the handout's test, CI settings, build output and history,
# and what only course staff use: the kit's README, docs/trust-boundary.md, docs/adding-a-lab.md,
# docs/ci/, the grader's README, end-to-end tests and hostile fixtures, the
# skeleton-versus-kit docs test. The Makefile
# loses the targets that need what is left out, and the kit files that call
# the kit's own crates "the reference" are reworded (handout/wording.pl).
# Fails if any of the kit's own sources is found in the result.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/target/handout}
mkdir -p "$out"
out=$(cd "$out" && pwd)
name=raftlab-handout
dest="$out/$name"

for f in handout/raft/Cargo.toml handout/raft/src/lib.rs handout/kvraft/Cargo.toml \
         handout/kvraft/src/lib.rs handout/README.md handout/wording.pl; do
  [ -f "$root/$f" ] || { echo "make-handout: $f is missing" >&2; exit 2; }
done

# Whether a path (relative to the root) stays out of the handout.
excluded() {
  case "$1" in
    # The skeletons' own folder stays (handout/raft, handout/kvraft): the
    # grading kit builds from it, so `make grade SUBMISSION=…` works here too.
    raft/*|kvraft/*|handout/README.md|handout/wording.pl|selfcheck/*|target/*|*/target/*|.git/*|.ci/*) return 0 ;;
    scripts/make-handout.sh|scripts/test-handout.sh) return 0 ;;
    # For course staff: the kit's README (the student guide replaces it),
    # grading untrusted code and grading in CI, the grader's own tests
    # against the kit's crates and its hostile submissions, a test that
    # compares the skeletons with the kit's crates, and one that runs the
    # self-check's broken crates.
    README.md|docs/trust-boundary.md|docs/adding-a-lab.md|docs/ci/*) return 0 ;;
    grader/README.md|grader/tests/e2e.rs|grader/tests/mutant.rs|grader/fixtures/*) return 0 ;;
    node/tests/contract_docs.rs|scripts/check-portable.sh) return 0 ;;
  esac
  return 1
}

# The kit's files: tracked and untracked-but-not-ignored ones when this is a
# git checkout (work in progress included), else every file.
list_files() {
  if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git -C "$root" ls-files -co --exclude-standard
  else
    (cd "$root" && find . -type f ! -path './target/*' ! -path './.git/*' | sed 's|^\./||')
  fi
}

rm -rf "$dest" "$out/$name.tar.gz"
mkdir -p "$dest"
list=$(mktemp)
trap 'rm -f "$list"' EXIT
list_files | while IFS= read -r f; do
  [ -f "$root/$f" ] || continue # deleted in the work tree
  excluded "$f" || printf '%s\n' "$f"
done >"$list"
tar -C "$root" -cf - -T "$list" | tar -C "$dest" -xf -

# The skeletons in place of the kit's own crates, and the student guide as
# the front page.
cp -R "$root/handout/raft" "$dest/raft"
cp -R "$root/handout/kvraft" "$dest/kvraft"
rm -rf "$dest/raft/target" "$dest/kvraft/target"
cp "$root/handout/README.md" "$dest/README.md"

# The Makefile without the targets whose scripts or folders are left out
# (each rule, or variable group, is a paragraph of its own: dropped whole),
# and without their names in .PHONY and the help.
staff_targets="check grader-e2e handout test-handout selfcheck selfcheck-ci contract bench-checker portable"
perl -e '
  my %drop = map { $_ => 1 } split " ", shift;
  local $/ = "";
  while (my $p = <STDIN>) {
    next if grep { $drop{$_} } $p =~ /^([A-Za-z0-9_-]+):(?!=)/mg;
    next if $p =~ /^SELFCHECK_\w+\s*[?:]?=/m;
    $p =~ s{^(\.PHONY:.*)$}{join " ", grep { !$drop{$_} } split " ", $1}me;
    $p =~ s{, SELFCHECK_ARGS=\S+ \(for make selfcheck\)}{};
    print $p;
  }' "$staff_targets" <"$root/Makefile" >"$dest/Makefile"

# The kit's files that speak of its own crates as "the reference", reworded
# for a student's copy.
reworded=$(grep -rlIi 'reference' "$dest" --exclude-dir=target || true)
if [ -n "$reworded" ]; then
  printf '%s\n' "$reworded" | while IFS= read -r f; do
    before=$(cksum <"$f")
    perl -0777 -p -i "$root/handout/wording.pl" "$f"
    [ "$(cksum <"$f")" = "$before" ] || echo "make-handout: reworded ${f#"$dest"/}" >&2
  done
fi

# Nothing of the kit's own crates may leak: these definitions exist only in
# them (and in the material left out above).
leaks=$(grep -rlE 'fn (next_index_after_reject|accept_append|accept_snapshot|decide_vote|advance_commit|is_duplicate)\b' \
  "$dest" --include='*.rs' --include='*.patch' --include='*.mut' || true)
if [ -n "$leaks" ]; then
  echo "make-handout: the kit's own raft/kvraft code found in the handout, refusing:" >&2
  echo "$leaks" >&2
  exit 3
fi

tar -C "$out" -czf "$out/$name.tar.gz" "$name"
echo "make-handout: wrote $dest and $out/$name.tar.gz" >&2
echo "$dest"
