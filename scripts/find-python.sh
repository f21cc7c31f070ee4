#!/usr/bin/env sh
# Print the path of a working Python interpreter of the given minor version (e.g. 3.13).
# Looks at $PYTHON, then pythonX.Y on PATH, then pyenv's versions, then uv's managed ones.
set -u
want="${1:?usage: find-python.sh 3.13}"

works() { [ -n "$1" ] && "$1" -c "import sys; sys.exit(0 if '%d.%d' % sys.version_info[:2] == '$want' else 1)" >/dev/null 2>&1; }

if [ -n "${PYTHON:-}" ]; then
  if works "$PYTHON"; then command -v "$PYTHON"; exit 0; fi
  echo "PYTHON=$PYTHON is not a working Python $want." >&2; exit 1
fi
candidate=$(command -v "python$want" 2>/dev/null || true)
if works "$candidate"; then echo "$candidate"; exit 0; fi
root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
for candidate in $(ls -d "$root"/versions/"$want".*/bin/python"$want" 2>/dev/null | sort -t. -k3 -n -r); do
  if works "$candidate"; then echo "$candidate"; exit 0; fi
done
for candidate in "$HOME"/.local/share/uv/python/cpython-"$want".*/bin/python"$want"; do
  if works "$candidate"; then echo "$candidate"; exit 0; fi
done
cat >&2 <<MSG
Python $want was not found. The Lambda runtime is python$want and the tests run on the same minor version.
Install it with one of:
  pyenv install $want        (then re-run make)
  uv python install $want
  apt-get install python$want   (where your distribution has it)
or point PYTHON at an interpreter: make test PYTHON=/path/to/python$want
MSG
exit 1
