#!/usr/bin/env bash
# Installs what the grader's sandbox needs: bubblewrap (Debian/Ubuntu package
# `bubblewrap`; setpriv comes with util-linux). Only root can sandbox
# untrusted code, so as another user this only says what is missing: a
# student's own `make grade` runs unisolated, with a notice in its reports.
set -euo pipefail
if command -v bwrap >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-sandbox: bubblewrap is not installed; grading runs unisolated (as root: apt-get install bubblewrap)" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-sandbox: no apt-get here; install bubblewrap with this system's package manager" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends bubblewrap >/dev/null
echo "install-sandbox: installed $(bwrap --version)"
