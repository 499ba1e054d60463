"""Airflow Assets the DAGs produce and consume (one definition each, imported by both sides)."""

from airflow.sdk import Asset

#: Updated by every catalog push; the inventory push runs after it.
JOOR_CATALOG = Asset("joor://catalog")
