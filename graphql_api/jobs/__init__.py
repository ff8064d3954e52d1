"""Periodic jobs: each runs once per period cluster-wide (`scheduler.run_due`), from every
worker's in-process scheduler or from `graphql-api sweep` (for cron)."""
