"""trailhouse ingest: land raw security logs where dbt can read them."""

__version__ = "0.1.0"
