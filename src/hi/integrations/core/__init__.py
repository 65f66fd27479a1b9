"""The lowest room: the error tree, redaction, encryption at rest and provider-data hygiene; it knows no table."""
