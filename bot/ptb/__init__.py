"""The adapter to python-telegram-bot that is not a user-facing area: the typed context, the
delivery worker's sender and transport, jobs, and chat-rights checks."""
