"""What operators watch: Prometheus metrics and ``/healthz`` (bot/observability/server.py)."""
