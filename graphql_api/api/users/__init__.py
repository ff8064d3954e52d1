"""GraphQL users domain."""
