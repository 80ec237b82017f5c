"""Citizen committees (시민위원회), appointments (위촉), meetings, registrations and check-in."""
