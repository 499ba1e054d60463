"""Shared pytest wiring. Fixture modules: services (PostgreSQL/Redis), dagrun (run_dag)."""

pytest_plugins = ["services", "dagrun"]

# --- sandbox fixtures (sandbox helper) ---------------------------------------------------------
