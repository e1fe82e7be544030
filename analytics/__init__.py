"""Pure analytics: pandas in, dataclasses out, ``asof`` passed in. No I/O, clock or network."""
