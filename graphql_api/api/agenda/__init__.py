"""The caller's agenda: one list of what they must do, drawn from the other domains."""

from graphql_api.api.agenda.queries import AgendaQuery
from graphql_api.api.core.domain import Domain

DOMAIN = Domain(name="agenda", query=AgendaQuery)
