"""Market data: one provider interface, a Yahoo and a CSV provider, a SQLite cache, NYSE calendar."""
