"""The message bus: one contract (`base.Bus`), two implementations — RabbitMQ (`rabbitmq.py`) for
production and an embedded bus persisted in the gateway's own database (`embedded.py`) for one machine.
`open_bus(settings)` picks one from `ORDERGATE_BROKER_URL`."""
