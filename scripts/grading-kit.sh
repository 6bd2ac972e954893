#!/usr/bin/env bash
# Prepares, from the kit alone, what the grader needs to build submissions
# without ever building its tester with student code (see the trust boundary
# in README.md, "Grading untrusted submissions"):
#
#   scripts/grading-kit.sh [OUT]          (default: target/grading-kit)
#
#   OUT/node-src/     the node workspace: labrpc, control, node and the
#                     handout's skeleton raft/ and kvraft/ (which a submission
#                     replaces), its own Cargo.lock, and a cargo config that
#                     takes every dependency from OUT/vendor
#   OUT/vendor/       the sources of the dependencies that lock file allows
#   OUT/stamp         names this kit by its content (the grader rebuilds its warm
#                     build of the skeletons, beside its submission builds, when it changes)
#   OUT/skeleton/     the skeleton crates, for a submission without kvraft/
#
# It needs the network (or a warm cargo cache) once, to vendor; the
# submissions' builds are `--locked --offline`. Everything is written as the
# caller and made read-only to others: only the grader's uid can change it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/target/grading-kit}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cargo=${CARGO:-cargo}
src="$out/node-src"
stage="$out/.stage"
rm -rf "$stage"
mkdir -p "$stage"

# The node workspace: the kit's three crates that node links, and skeletons.
for crate in labrpc control platform node; do
  tar -C "$root" --exclude=./$crate/target -cf - "./$crate" | tar -C "$stage" -xf -
done
cp -R "$root/handout/raft" "$stage/raft"
cp -R "$root/handout/kvraft" "$stage/kvraft"
# node's dev-dependencies (the harness) are not part of this workspace.
awk '/^\[dev-dependencies\]/{skip=1; next} /^\[/{skip=0} !skip' "$root/node/Cargo.toml" >"$stage/node/Cargo.toml"
rm -rf "$stage/node/tests" "$stage/node/benches"
# The workspace manifest: the kit's, with only these members.
sed -E -e 's/^members *=.*/members = ["labrpc", "control", "platform", "raft", "kvraft", "node"]/' \
  -e '/^exclude *=/d' "$root/Cargo.toml" >"$stage/Cargo.toml"
# Its lock file: the kit's, pruned to what these crates use (no version moves).
cp "$root/Cargo.lock" "$stage/Cargo.lock"
"$cargo" metadata --offline --format-version 1 --manifest-path "$stage/Cargo.toml" >/dev/null 2>&1 ||
  "$cargo" metadata --format-version 1 --manifest-path "$stage/Cargo.toml" >/dev/null
# Every crate the lock names, from the kit's lock versions, into vendor/.
rm -rf "$out/vendor"
"$cargo" vendor --locked --manifest-path "$stage/Cargo.toml" "$out/vendor" >/dev/null
mkdir -p "$stage/.cargo"
cat >"$stage/.cargo/config.toml" <<EOF
# Written by scripts/grading-kit.sh: a submission builds from these sources only.
[source.crates-io]
replace-with = "kit-vendor"

[source.kit-vendor]
directory = "$out/vendor"

[net]
offline = true
EOF
rm -rf "$src"
mv "$stage" "$src"
rm -rf "$out/skeleton"
mkdir -p "$out/skeleton"
cp -R "$root/handout/raft" "$root/handout/kvraft" "$out/skeleton/"

rm -rf "$out/node-target"
# Names this kit by its content: a grader (or the self-check) rebuilds its
# warm copy when it changes, and only then.
stamp=$(cd "$out" && find node-src skeleton -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
[ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ] || echo "$stamp" >"$out/stamp"
chmod -R go-w "$out"
chmod -R a+rX "$out"
echo "grading kit ready in $out"
