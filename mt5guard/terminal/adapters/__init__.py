"""Adapters for real terminals, over one base (``_base``: ModuleTerminal).

``metatrader5`` (MetaTrader5Terminal: the module in this process) and
``rpyc`` (RpycTerminal: the module behind an rpyc classic server, with
``_rpyc_wire``). Re-exported by :mod:`mt5guard.terminal`; this package
itself re-exports nothing, and importing it imports neither the module nor rpyc.
"""
