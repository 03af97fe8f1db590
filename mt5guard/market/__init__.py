"""Market data: quotes and the quote cache (``quotes``), the worker quote feed
(``feed``), bars and ticks (``data``), per-account rate limits (``rate_limit``).
"""
