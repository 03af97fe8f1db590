"""The Session facade (blocking and awaitable), the SessionActor behind it, and the tree.

``start(config)`` builds the supervision tree of every account (``guard``) and
returns a :class:`Guard`; its ``sessions`` are :class:`Session` facades, each
with an awaitable twin (``session.aio``, :class:`AsyncSession`). The
SessionActor (``actor``) is the only owner of an account's terminal.
"""
