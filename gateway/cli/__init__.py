"""The `ordergate` command line."""
