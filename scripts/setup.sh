#!/usr/bin/env bash
# Sets up gankit in ./.venv (idempotent): PyTorch, the package with its test tools, and, where apt
# is available, Debian's Fashion-MNIST files so the Fashion-MNIST configs need no download.
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

if [ ! -d /usr/share/datasets/fashion-mnist ] && command -v apt-get >/dev/null; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  { $sudo apt-get update -qq && $sudo apt-get install -y -qq dataset-fashion-mnist; } >/dev/null 2>&1 \
    || echo "setup: could not install dataset-fashion-mnist with apt (not needed by the quickstart)" >&2
fi
