"""``python -m nbtrack …``: the ``nbtrack`` command run by a given Python (``!{sys.executable}
-m nbtrack sweep …`` in a notebook runs the nbtrack of the kernel's environment)."""

import sys

from .cli import main

sys.exit(main())
