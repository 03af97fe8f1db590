"""Adapters for real terminals: the MetaTrader5 module (``metatrader5``) and an rpyc
server in front of one (``rpyc``).
"""
