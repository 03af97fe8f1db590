"""One account's session: the Session facade, the SessionActor behind it, and start().

Facade: ``facade`` (Session) and ``aio`` (AsyncSession) bind the same calls
over one ``_core.SessionCore``; each call is written once in a call family
(``_account``, ``_account_reads``, ``_trading``, ``_market``, ``_quotes``,
``_views``), its arguments checked in ``_args``. Actor: ``actor`` (SessionActor) holds its
parts as objects: ``_breaker_link``, ``_connection``, ``_calls``. Tree:
``_account_tree`` builds one account's supervisor; ``guard`` (``start``,
Guard) builds them all. This package re-exports nothing (importing
``session.messages`` must not start the tree's modules): import from
:mod:`mt5guard` or from the modules named here.
"""
