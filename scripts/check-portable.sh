#!/usr/bin/env bash
# The student commands on the portable path — what macOS runs: process
# groups and a parent watch instead of the parent-death signal and /proc,
# no-follow opens one folder at a time instead of openat2, no sandbox —
# forced on Linux with LAB_PORTABLE=1, so that CI runs it.
#
#   scripts/check-portable.sh      (after `make build`)
#
# Runs the kit's own tests of what the path changes, every test of groups
# 2A-2D, repeat mode and `labs logs`. What it cannot show: that the kit
# compiles and behaves on macOS itself (CI has no macOS).
set -euo pipefail
cd "$(dirname "$0")/.."
export LAB_PORTABLE=1
cargo=${CARGO:-cargo}
echo "== portable path: the kit's tests of the no-follow reads, sockets, process ties and labs logs"
# The grader is Linux-only: its tests run on the Linux path (make unit).
"$cargo" test -q --workspace --exclude grader --lib --bins
"$cargo" test -q -p labs --test tools --test setup --test no_orphans
echo "== portable path: groups 2A-2D"
target/release/labs --jobs auto --skip 3A --skip 3B
echo "== portable path: repeat mode"
target/release/labs --repeat 4 --jobs auto InitialElection2A --exact
echo "portable path: passed"
