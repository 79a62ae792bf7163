"""Scheduled jobs (APScheduler). They work through storage/ only. Retention jobs come next."""
