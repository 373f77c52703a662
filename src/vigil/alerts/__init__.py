"""Alerting: alarms over metrics, notification delivery, noise control."""
