#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image:
# it installs a Rust toolchain and bubblewrap, builds the kit's tester, makes
# the grading kit (the node workspace and its vendored sources) and warms the
# folder where submissions are built, so that each one recompiles only the
# student crates. The package holds no reference solution: raft/ and kvraft/
# are the handout's skeletons.
set -euxo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends build-essential ca-certificates curl bubblewrap
if ! command -v cargo >/dev/null 2>&1; then
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain stable
fi
source "$HOME/.cargo/env"
cd /autograder/source
cargo build --release -p grader -p node -p labs
target/release/grader kit target/grading-kit
# One grading of the skeletons builds the warm copy the submissions start from.
target/release/grader run target/grading-kit/skeleton --tests InitialElection2A --timeout 30 \
  --swap-root /autograder/swap --out /tmp/warm-up >/dev/null || true
