"""What the alerts domain loads by key."""

from __future__ import annotations

from graphql_api.api.core.loaders import ById
from graphql_api.db import models
from graphql_api.services import alerts

ALERT_BY_ID = ById(models.SystemAlert, alerts.visible_alerts)
