"""ordergate core: canonical model, errors, storage, ingest, CLI and settings."""
