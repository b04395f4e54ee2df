"""Format ⇄ canonical translations. Pure functions over bytes: no I/O, no storage, no settings."""
