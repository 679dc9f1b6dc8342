"""``python -m sk_mlp_tune``: see :mod:`sk_mlp_tune.cli`."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
