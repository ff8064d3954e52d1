"""What the users domain loads by key."""

from __future__ import annotations

from graphql_api.api.core.loaders import ById
from graphql_api.db import models
from graphql_api.services import users

USER_BY_ID = ById(models.User, users.visible_users, includes_caller=True)
