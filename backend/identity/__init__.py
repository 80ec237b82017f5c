"""Identity: municipalities (the tenant), users, roles and login sessions."""
