"""GraphQL auth domain."""
