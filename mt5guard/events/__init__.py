"""Events: the in-process bus (``bus``: EventBus, deliver), trade event messages
(``messages``) and the book watcher that turns two polls into trade events
(``trade``: TradeWatch).

The bus and the messages sit on the lowest floor; ``trade`` sits above orders.
This package re-exports nothing, so importing the bus never imports ``trade``.
"""
