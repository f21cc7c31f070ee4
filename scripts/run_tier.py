"""Run one test tier (a folder under tests/) with pytest.

A tier that exists but holds no tests yet is reported and passes (pytest's exit
code 5); any failing test fails the run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

NO_TESTS_COLLECTED = 5


def main() -> int:
    tier = sys.argv[1]
    folder = Path(__file__).resolve().parent.parent / "tests" / tier
    result = subprocess.run([sys.executable, "-m", "pytest", str(folder), *sys.argv[2:]], check=False)
    if result.returncode == NO_TESTS_COLLECTED:
        print(f"tests/{tier}: no tests collected in this tier; nothing failed.")
        return 0
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
