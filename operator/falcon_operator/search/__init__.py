"""The search engine: spaces, trial records, strategies. No kopf, no kubernetes imports here."""
