"""The staged pipeline: intake → translate → review → route → dispatch, over the bus, with an outbox,
idempotent consumers and parking."""
