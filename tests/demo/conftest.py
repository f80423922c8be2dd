"""The demo is a script (scripts/demo.py over the scripts/demo_scenario package), not an installed
package: put scripts/ on the path the way running it does."""

from __future__ import annotations

import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))
