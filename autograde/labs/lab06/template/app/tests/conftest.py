"""Make `import main` work whichever folder pytest is started from."""

import sys
from pathlib import Path

APP_DIR = str(Path(__file__).resolve().parent.parent)
if APP_DIR not in sys.path:
    sys.path.insert(0, APP_DIR)
