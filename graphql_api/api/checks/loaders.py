"""What the checks domain loads by key."""

from __future__ import annotations

from graphql_api.api.core.loaders import ById, Children, FiguresByParent
from graphql_api.db import models
from graphql_api.services import checks

CHECK_BY_ID = ById(models.InventoryCheck, checks.visible_checks)
RECORD_BY_ID = ById(models.CheckItem, checks.visible_check_items)
REVIEW_BY_ID = ById(models.CheckReview, checks.visible_reviews)
# A check covers the items captured at its start: their number is kept on the check.
RECORDS_OF_CHECK = Children(
    models.CheckItem,
    models.CheckItem.check_id,
    checks.visible_check_items,
    checks.RECORD_ORDER,
    count=lambda check: check.item_count,
)
REVIEWS_OF_CHECK = Children(
    models.CheckReview, models.CheckReview.check_id, checks.visible_reviews, checks.REVIEW_ORDER
)
TOTALS_OF_CHECK = FiguresByParent(models.CheckItem.check_id, checks.visible_check_items, checks.TOTALS)
