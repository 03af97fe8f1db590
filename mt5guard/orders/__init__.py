"""Orders: one path from request to journal to terminal and back; an id is never sent twice.

``request`` (client order ids and the request rules), ``desk`` (OrderDesk:
sends, journals, answers), ``journal`` and ``_journal_file`` (the SQLite
write-ahead journal), ``reconcile`` (unknown outcomes read back by client
id), ``changes`` (SL/TP, close, cancel), ``pending`` (limit and stop
orders), ``checks`` (``order_check`` of a market order) and ``messages``.
This package re-exports nothing: import from those modules.
"""
