"""GraphQL audit domain."""
