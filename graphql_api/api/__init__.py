"""The GraphQL layer: the only package that imports strawberry."""
