"""GraphQL organization domain."""
