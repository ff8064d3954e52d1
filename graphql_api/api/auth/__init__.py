"""Sign-up, sign-in, token refresh and the caller's own account."""

from graphql_api.api.auth.mutations import AuthMutation
from graphql_api.api.core.domain import Domain

DOMAIN = Domain(name="auth", mutation=AuthMutation)
