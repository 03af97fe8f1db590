"""mt5guard: a supervised MetaTrader 5 session layer built on pykka actors."""

import logging

logging.getLogger("mt5guard").addHandler(logging.NullHandler())

__all__: list[str] = []
