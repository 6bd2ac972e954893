#!/usr/bin/env bash
# Writes the student handout: the kit with the reference raft/ and kvraft/
# replaced by the skeletons in handout/, as a folder and a tarball.
#
#   scripts/make-handout.sh [OUT_DIR]     (default: target/handout)
#
# Produces OUT_DIR/raftlab-handout/ and OUT_DIR/raftlab-handout.tar.gz, and
# prints the folder's path on stdout. Left out: the reference crates, the
# broken KV fixtures (near-copies of the reference kvraft), the self-check's
# mutants (reference fragments), the skeleton sources' own folder, this
# script and the handout's test, CI settings, build output and history.
# Fails if any reference source is found in the result.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/target/handout}
mkdir -p "$out"
out=$(cd "$out" && pwd)
name=raftlab-handout
dest="$out/$name"

for f in handout/raft/Cargo.toml handout/raft/src/lib.rs handout/kvraft/Cargo.toml \
         handout/kvraft/src/lib.rs handout/README.md; do
  [ -f "$root/$f" ] || { echo "make-handout: $f is missing" >&2; exit 2; }
done

# Whether a path (relative to the root) stays out of the handout.
excluded() {
  case "$1" in
    raft/*|kvraft/*|handout/*|selfcheck/*|target/*|*/target/*|.git/*|.ci/*) return 0 ;;
    scripts/make-handout.sh|scripts/test-handout.sh) return 0 ;;
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

# The skeletons in place of the reference crates, and the student guide.
cp -R "$root/handout/raft" "$dest/raft"
cp -R "$root/handout/kvraft" "$dest/kvraft"
rm -rf "$dest/raft/target" "$dest/kvraft/target"
cp "$root/handout/README.md" "$dest/STUDENT.md"

# Nothing of the reference solution may leak: these definitions exist only
# in the reference crates (and the material left out above).
leaks=$(grep -rlE 'fn (next_index_after_reject|accept_append|accept_snapshot|decide_vote|advance_commit|is_duplicate)\b' \
  "$dest" --include='*.rs' --include='*.patch' --include='*.mut' || true)
if [ -n "$leaks" ]; then
  echo "make-handout: reference code found in the handout, refusing:" >&2
  echo "$leaks" >&2
  exit 3
fi

tar -C "$out" -czf "$out/$name.tar.gz" "$name"
echo "make-handout: wrote $dest and $out/$name.tar.gz" >&2
echo "$dest"
