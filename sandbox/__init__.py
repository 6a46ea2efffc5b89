"""The sandbox: the real bot against the Bot API emulator, with a Telegram-like web chat.

A top-level package of the repository like `emulator` (not part of the wheel); `akhbar sandbox`
imports it lazily.
"""

from sandbox.runner import PortInUse, SandboxOptions, run_sandbox

__all__ = ["PortInUse", "SandboxOptions", "run_sandbox"]
