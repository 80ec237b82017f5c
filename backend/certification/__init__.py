"""Pure cryptographic core of model-citizen certificates (no Flask, no database)."""
