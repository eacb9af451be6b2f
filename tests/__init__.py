"""Cross-cutting tests: authorisation of every API route, translations, docs, browsers, services."""
