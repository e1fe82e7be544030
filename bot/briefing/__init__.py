"""The morning post, one module per concept:

- ``models``: subscriptions, deliveries and their statuses, the nonce, the shard rule;
- ``schedule``: when slots fire (DST- and NYSE-aware) and the APScheduler jobs;
- ``post``: the post as data (embeds, files, Markdown), with its marker;
- ``store``: all of the briefing's SQL (subscriptions and the delivery ledger);
- ``compose``: market snapshot → briefing → charts → post, and the composition cache;
- ``sender``: posting with discord.py and finding a post again; the send limiter;
- ``fanout``: exactly-once delivery (claim, send, record, reconcile);
- ``files``: the preview files of the CLI and ``make run`` without a token;
- ``service``: the wiring into a running bot.

Imports run downward in that order (``tests/test_architecture.py`` checks it).
"""
