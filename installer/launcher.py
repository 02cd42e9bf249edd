"""Entry point of the frozen build: the same ``app.main.main()`` as the ``carecoord`` command.

A separate script (rather than ``app/main.py`` itself) so the package is imported under its real
name and PyInstaller does not put ``app/`` on the search path as a top-level folder.
"""

import sys

from app.main import main

if __name__ == "__main__":
    sys.exit(main())
