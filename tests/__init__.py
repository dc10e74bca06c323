import os

# Real argon2id with minimal cost: see service/accounts/store.py. Set before any test
# module imports the accounts code.
os.environ.setdefault("MAILLAGE_PASSWORD_HASHING", "cheapest")
