"""Anti-fraud awareness bot for the Baoting and Qiongzhong county police bureaus."""

import os

__version__ = "0.1.0"

# Opt in to python-telegram-bot's announced behaviour: time periods (RetryAfter.retry_after)
# as timedelta. Without it PTB 22 warns on every flood-control error it raises.
os.environ.setdefault("PTB_TIMEDELTA", "true")
