"""GraphQL items domain."""
