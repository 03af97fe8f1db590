"""The circuit breaker: a pure policy (``policy``), its actor (``actor``), the
shared state view the account's actors read at start (``view``) and its messages.
"""
