"""Market data: one provider interface, Yahoo and CSV providers, SQLite cache, NYSE calendar."""
