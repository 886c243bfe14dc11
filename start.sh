#!/usr/bin/env bash
# Install SynthBin (first run only) and open the dashboard on the built-in demo dataset.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/install.sh requirements.txt
export TF_CPP_MIN_LOG_LEVEL=2
exec .venv/bin/python -m streamlit run app.py --server.address 127.0.0.1 "$@"
