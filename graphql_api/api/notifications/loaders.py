"""What the notifications domain loads by key."""

from __future__ import annotations

from graphql_api.api.core.loaders import ById
from graphql_api.db import models
from graphql_api.services import notifications

NOTIFICATION_BY_ID = ById(models.Notification, notifications.visible_notifications)
