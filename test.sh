#!/usr/bin/env bash
# Install the test requirements (first run only) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/install.sh requirements-dev.txt
export TF_CPP_MIN_LOG_LEVEL=2
exec .venv/bin/python -m pytest "$@"
