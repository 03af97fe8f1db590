"""Orders: the request rules (``request``), the desk that sends them (``desk``), the
write-ahead journal (``journal``), reconcile by client id (``reconcile``), SL/TP and
close changes (``changes``) and their messages. An id is never sent twice.
"""
