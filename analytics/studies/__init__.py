"""Historical studies for ``/history``: breakouts, record droughts, leadership cycles, rate days.

Each module is pure (price series in, frozen dataclasses out, ``asof`` passed in) and reads only
data dated on or before ``asof``.
"""
