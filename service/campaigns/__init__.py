"""Verification campaigns: partners review and correct their own directory entry through
a personal link (service/entry_links.py), without an account."""
