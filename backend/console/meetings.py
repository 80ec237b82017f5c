"""Meetings (schedulers and officials): to come."""
