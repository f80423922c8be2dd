"""Upgrade safety of the UUPS-proxied contracts (storage-layout compatibility between releases)."""
