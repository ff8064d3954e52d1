"""What the organization domain loads by key."""

from __future__ import annotations

from graphql_api.api.core.loaders import ById, Children
from graphql_api.db import models
from graphql_api.services import organization

CENTER_BY_ID = ById(models.Center, organization.visible_centers)
ENVIRONMENT_BY_ID = ById(models.Environment, organization.visible_environments)
ENVIRONMENTS_OF_CENTER = Children(
    models.Environment, models.Environment.center_id, organization.visible_environments, organization.ENVIRONMENT_ORDER
)
