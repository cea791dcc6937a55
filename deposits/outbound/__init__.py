"""Notifications out: team subscriptions told of events by signed webhooks (Standard
Webhooks), delivered by workers with retries and a log.

- ``events``: ``emit`` -- one delivery per subscription that wants the event.
- ``addresses``: which URLs a subscription may name (allowlist, no private addresses).
- ``delivery``: signing and sending, retries with backoff, switching a failing one off.
- ``subscriptions``: people managing subscriptions (team admins).
"""
