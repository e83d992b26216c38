#!/usr/bin/env bash
# Make the separate virtualenv for the JoeyNMT 2.3.0 speed peer (never a dependency of the app).
#   bash bench/setup_joeynmt.sh        # creates .venv-joeynmt/ at the repository root (git-ignored)
# importlib-metadata: JoeyNMT 2.3.0 fails to import without it. torch is pinned to the app's version so both
# systems run the same kernels.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv-joeynmt}
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import joeynmt, torch; assert torch.__version__.startswith('2.13.0')" 2>/dev/null; then
  echo "$VENV ready: $("$VENV/bin/python" -c 'import joeynmt, torch; print("joeynmt", joeynmt.__version__, "torch", torch.__version__)')"
  exit 0
fi
python -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet torch==2.13.0 joeynmt==2.3.0 importlib-metadata
"$VENV/bin/python" -c 'import joeynmt, torch; print("joeynmt", joeynmt.__version__, "torch", torch.__version__)'
