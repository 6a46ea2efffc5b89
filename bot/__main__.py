"""`python -m bot` is the `akhbar` command."""

import sys

from bot.cli import main

sys.exit(main())
