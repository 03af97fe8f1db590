"""Events: the in-process bus (``bus``) and trade event messages (``messages``).

The book watcher that turns two polls into trade events is ``events.trade``
(imported by the session, not here: the bus sits on the lowest floor).
"""
