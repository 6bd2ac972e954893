#!/usr/bin/env bash
# Installs headless Chromium (Debian/Ubuntu package `chromium`) so that the
# kit's tests can load a test's timeline.html in a real browser (the test
# `timeline_page_renders_in_chromium` in harness/tests/ skips itself, saying
# so, when no Chromium is found). Like install-sandbox.sh: only root
# installs; as another user this only says what is missing.
set -euo pipefail
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then
    exit 0
  fi
done
if [ "$(id -u)" -ne 0 ]; then
  echo "install-chromium: Chromium is not installed; the timeline page's browser test will be skipped (as root: apt-get install chromium)" >&2
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: no apt-get here; install Chromium with this system's package manager" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "install-chromium: installed $(chromium --version 2>/dev/null || echo chromium)"
