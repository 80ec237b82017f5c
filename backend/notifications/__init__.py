"""Notifications: the app inbox and push delivery to citizens' devices."""
