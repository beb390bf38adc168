"""The Graph mirror: the shared board as SharePoint lists, kept in step with the journal.

client.py opens msgraph-sdk from the settings; lists.py defines the lists as data and
provision.py creates them; rows.py translates journal fields to columns and back.
mirror.py drains the outbox into the lists, paced by pacing.py; delta.py reads HQ's
edits back, handed to bot/corrections.py (Sites board) and request_edits.py (Supply
requests); stale.py keeps the board's Stale flag current; service.py runs them all
inside the app; retry.py is `python -m bot graph-retry`.
"""
