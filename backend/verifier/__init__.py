"""The verifier phone web app (`/verify/`): its files are in the top-level verifier/ folder."""
