#!/usr/bin/env bash
# Sets up gankit in ./.venv (idempotent): PyTorch, the package with its test tools, and, where apt
# is available, Debian's Fashion-MNIST files so the Fashion-MNIST configs need no download, and
# chromium for the playground's browser test.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
stamp=".venv/.gankit-installed-$(sha256sum pyproject.toml | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  # The torch/torchvision pair the project is tested with (any version pyproject.toml admits works).
  .venv/bin/python -c "import torch, torchvision" 2>/dev/null \
    || .venv/bin/python -m pip install -q "torch==2.14.1" "torchvision==0.29.1"
  .venv/bin/python -m pip install -q -e ".[test]"
  touch "$stamp"
fi

# apt_install PACKAGE PATH WHY: install a Debian package unless PATH (one of its files) is there.
apt_install() {
  if [ -e "$2" ] || ! command -v apt-get >/dev/null; then return 0; fi
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  { $sudo apt-get update -qq && $sudo apt-get install -y -qq "$1"; } >/dev/null 2>&1 \
    || echo "setup: could not install $1 with apt ($3)" >&2
}
apt_install dataset-fashion-mnist /usr/share/datasets/fashion-mnist "not needed by the quickstart"
# The playground's browser test drives Debian's chromium with Playwright (no browser download).
apt_install chromium /usr/bin/chromium "the playground's browser test will be skipped"
