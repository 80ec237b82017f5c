"""The ministry's side: follow-up of good cases, dispute mediation, training courses."""
