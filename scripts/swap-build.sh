#!/usr/bin/env bash
# Builds the kit with another raft crate (and optionally another kvraft crate)
# in a scratch copy of the workspace, never touching this tree, and prints the
# path of the built `labs` binary on stdout (the `node` binary is beside it).
#
#   scripts/swap-build.sh RAFT_DIR [KVRAFT_DIR]
#
# The scratch copy lives in $SWAP_ROOT/src (default target/swap); its build in
# $SWAP_ROOT/target, kept between runs so only the swapped crates rebuild.
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
raft=$(cd "$raft" && pwd)
[ -n "$kvraft" ] && kvraft=$(cd "$kvraft" && pwd)
swap_root=${SWAP_ROOT:-$root/target/swap}
scratch="$swap_root/src"
rm -rf "$scratch"
mkdir -p "$scratch"
# Copy the workspace without build output or history.
tar -C "$root" --exclude=./target --exclude=./.git -cf - . | tar -C "$scratch" -xf -
rm -rf "$scratch/raft"
cp -R "$raft" "$scratch/raft"
rm -rf "$scratch/raft/target"
if [ -n "$kvraft" ]; then
  rm -rf "$scratch/kvraft"
  cp -R "$kvraft" "$scratch/kvraft"
  rm -rf "$scratch/kvraft/target"
fi
# The submitted crate must be named as the one it replaces.
sed -i -E '0,/^name *=.*/s//name = "raft"/' "$scratch/raft/Cargo.toml"
export CARGO_TARGET_DIR="$swap_root/target"
if ! cargo build --release --manifest-path "$scratch/Cargo.toml" -p node -p labs >&2; then
  echo "swap-build: the kit does not build with the raft crate from $raft (compiler output above)" >&2
  exit 3
fi
echo "$CARGO_TARGET_DIR/release/labs"
