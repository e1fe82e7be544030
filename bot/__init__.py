"""capbrief: the process side — Discord, market data, storage, scheduling, rendering."""

__version__ = "0.1.0"
