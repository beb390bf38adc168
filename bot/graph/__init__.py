"""The Graph mirror: the shared board as SharePoint lists, kept in step with the journal.

client.py opens msgraph-sdk from the settings; lists.py defines the lists as data;
provision.py creates them.
"""
