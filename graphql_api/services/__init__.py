"""Business rules, one module per domain. Plain async functions taking a session and typed
arguments; they raise `graphql_api.errors.*` and never import strawberry or the API layer."""
