"""Database backends: Django's, with what a long-running web process needs."""
