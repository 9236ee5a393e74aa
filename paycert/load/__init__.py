"""The KPI load phase (002 §3.2): Locust used as a library, bounded by request count and duration."""
