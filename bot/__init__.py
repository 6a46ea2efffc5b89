"""Akhbar: the bot, its command line and what its layers share."""

import sys

# `import httpx` also imports httpx's command-line client whenever click, rich and pygments are
# installed, as they are wherever the test tools are (import-linter needs them): ~4 MB in every
# process for a client the bot never runs. A None entry makes that one import fail, and httpx
# then keeps its stub `main` (ModuleNotFoundError, which httpx expects when they are missing).
# Measured on a serving bot after /start: 78.4 MB with them, 74.1 MB without.
sys.modules.setdefault("httpx._main", None)
