"""Anti-fraud awareness bot for the Baoting and Qiongzhong county police bureaus."""

__version__ = "0.1.0"
