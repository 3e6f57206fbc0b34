"""No Docker engine runs here, so check the compose file parses and describes the stack."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_compose_file_names_the_production_services() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "beat"}
    for name in services:
        assert "healthcheck" in services[name], f"{name} has no health check"
    assert "gunicorn" in services["web"]["command"] and "migrate" in services["web"]["command"]
    assert "worker" in services["worker"]["command"] and "beat" in services["beat"]["command"]
    assert {"postgres-data", "redis-data", "media"} <= set(compose["volumes"])
    assert (ROOT / "Dockerfile").exists()
