#!/usr/bin/env bash
# Builds the node of another raft crate (and optionally another kvraft crate)
# exactly as the grader builds a submission's — from the grading kit, with
# the kit's lock file, --offline, the same checks and the same messages
# (`grader build`) — and prints the built node's path on stdout. The tester
# that runs it is the kit's own target/release/labs (LAB_NODE=that path), so
# a crate that passes `make test-2A RAFT=…` builds when graded, and one that
# adds a dependency fails here with the grader's own message.
#
#   scripts/swap-build.sh RAFT_DIR [KVRAFT_DIR]
#
# The crates are copied (without target/) to $SWAP_ROOT/submission (default
# target/local-swap); the build happens beside, from a copy of a warm build
# of the kit, so only the swapped crates and node recompile.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
raft=${1:?usage: swap-build.sh RAFT_DIR [KVRAFT_DIR]}
kvraft=${2:-}
for d in "$raft" ${kvraft:+"$kvraft"}; do
  if [ ! -f "$d/Cargo.toml" ]; then
    echo "swap-build: $d is not a crate (no Cargo.toml there)" >&2
    exit 2
  fi
done
if [ "$(uname -s)" != Linux ]; then
  echo "swap-build: RAFT=/KVRAFT= build a crate as the grader does, which runs on Linux only;" >&2
  echo "swap-build: on $(uname -s), put the crate in raft/ (or kvraft/) and run make test-2A without RAFT=" >&2
  exit 2
fi
swap_root=${SWAP_ROOT:-$root/target/local-swap}
sub="$swap_root/submission"
rm -rf "$sub"
mkdir -p "$sub/raft"
tar -C "$raft" --exclude=./target -cf - . | tar -C "$sub/raft" -xf -
if [ -n "$kvraft" ]; then
  mkdir -p "$sub/kvraft"
  tar -C "$kvraft" --exclude=./target -cf - . | tar -C "$sub/kvraft" -xf -
fi
if ! "$root/scripts/grading-kit.sh" "$root/target/grading-kit" >"$swap_root/grading-kit.log" 2>&1; then
  cat "$swap_root/grading-kit.log" >&2
  echo "swap-build: cannot make the grading kit (above)" >&2
  exit 3
fi
if ! node=$("$root/target/release/grader" build "$sub" --workspace "$root" --swap-root "$swap_root"); then
  echo "swap-build: $raft${kvraft:+ and $kvraft} did not build as a grading builds them (above)" >&2
  exit 3
fi
echo "$node"
