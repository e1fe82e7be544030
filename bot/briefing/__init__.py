"""The morning post: models, schedule, compose, post, fanout, service, store (see each module).

Imports run downward: service → fanout → (compose → post) / schedule / store → models.
"""
