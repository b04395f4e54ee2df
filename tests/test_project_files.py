"""The files a new user and an operator rely on: compose stack, image, published schema, CI script."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from gateway.core.schema import order_schema

ROOT = Path(__file__).resolve().parent.parent


def _compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_broker_database_migration_and_gateway() -> None:
    services = _compose()["services"]
    assert {"rabbitmq", "postgres", "migrate", "gateway"} <= set(services)
    assert "management" in services["rabbitmq"]["image"]
    assert "127.0.0.1:15672:15672" in services["rabbitmq"]["ports"]
    assert services["postgres"]["image"].startswith("postgres:")
    for name in ("rabbitmq", "postgres", "gateway"):
        assert services[name]["healthcheck"]["test"], f"{name} has no health check"


def test_compose_orders_start_up_by_health() -> None:
    services = _compose()["services"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["command"] == ["ordergate", "migrate"]
    gateway = services["gateway"]
    assert gateway["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert gateway["depends_on"]["rabbitmq"]["condition"] == "service_healthy"
    assert gateway["command"][:2] == ["ordergate", "serve"]


def test_compose_points_the_gateway_at_the_services_without_secrets_in_the_file() -> None:
    services = _compose()["services"]
    env = services["gateway"]["environment"]
    assert env["ORDERGATE_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert "@postgres:5432/" in env["ORDERGATE_DATABASE_URL"]
    assert (
        env["ORDERGATE_BROKER_URL"].startswith("amqp://") and "@rabbitmq:5672" in env["ORDERGATE_BROKER_URL"]
    )
    text = (ROOT / "docker-compose.yml").read_text()
    for password in re.findall(r"^\s*\w*(?:PASSWORD|PASS):\s*(\S+)", text, re.MULTILINE):
        assert password.startswith("${"), f"literal password in docker-compose.yml: {password}"


def test_dockerfile_installs_the_packages_and_serves() -> None:
    text = (ROOT / "Dockerfile").read_text()
    for package in ("gateway", "mappings", "connectors", "partner_portal"):
        assert f"COPY {package} " in text
    assert "USER ordergate" in text
    assert '"ordergate", "serve"' in text


def test_published_schema_matches_the_model() -> None:
    published = json.loads((ROOT / "docs" / "canonical-order.schema.json").read_text())
    assert published == order_schema(), "docs/canonical-order.schema.json is stale: run `make schema`"
    required = set(published["required"])
    assert {"order_number", "source"} <= required
    line = published["$defs"]["OrderLine"]["properties"]
    assert {
        "line_number",
        "gtin",
        "buyer_item_id",
        "seller_item_id",
        "quantity",
        "unit",
        "unit_price",
    } <= set(line)


def test_ci_script_requires_services_and_runs_make_test() -> None:
    text = (ROOT / ".ci" / "run").read_text()
    assert "ORDERGATE_REQUIRE_SERVICES=1" in text
    assert re.search(r"^make test$", text, re.MULTILINE)
    assert (ROOT / ".ci" / "run").stat().st_mode & 0o111


def test_compose_workers_scale_and_drain() -> None:
    worker = _compose()["services"]["worker"]
    assert worker["command"][:2] == ["ordergate", "worker"]
    assert "container_name" not in worker and "ports" not in worker, "a fixed name or port prevents --scale"
    assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert worker["depends_on"]["rabbitmq"]["condition"] == "service_healthy"
    assert worker["environment"]["ORDERGATE_BROKER_URL"].startswith("amqp://")
    assert worker["restart"] == "unless-stopped"
    assert worker["stop_grace_period"]
    assert worker["healthcheck"]["test"]
