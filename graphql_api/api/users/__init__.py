"""User accounts: the caller's own (`me`) and their administration (ADMIN_GENERAL)."""

from graphql_api.api.core.domain import Domain
from graphql_api.api.users.mutations import UserMutation
from graphql_api.api.users.queries import UserQuery
from graphql_api.api.users.types import User

DOMAIN = Domain(name="users", query=UserQuery, mutation=UserMutation, types=(User,))
