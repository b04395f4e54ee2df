"""FastAPI app: the REST API (OpenAPI at /docs) and, later, the partner portal and ops console."""
