"""`scope.reaches` (who is told of a room's events) is the exact reverse of
`scope.environment_filter` (which rooms a caller sees), for every role and environment."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graphql_api.auth import scope
from graphql_api.db import models
from graphql_api.services import notifications
from tests.conftest import Actor, Factory, World


async def test_the_users_an_environment_reaches_are_those_whose_scope_contains_it(
    world: World, factory: Factory, db: async_sessionmaker[AsyncSession]
) -> None:
    homeless = await factory.user(models.Role.SUPERVISOR, None)
    # Teaching gives scope while the slot is active and valid: a2 for world A's instructor,
    # nothing for a colleague whose slot in a2 ended.
    await factory.schedule(world.a2, world.instructor)
    past = await factory.user(models.Role.INSTRUCTOR, world.a1)
    await factory.schedule(
        world.a2,
        past,
        start_time=time(14, 0),
        end_time=time(16, 0),
        valid_from=date(2020, 1, 1),
        valid_until=date(2020, 6, 1),
    )
    actors: list[Actor] = [
        *(world.role(name) for name in ("student", "instructor", "supervisor", "admin", "admin_general")),
        world.student_b,
        world.admin_b,
        homeless,
        past,
    ]
    environments = (world.a1, world.a2, world.aw, world.b1, world.bw)
    async with db() as session:
        for environment in environments:
            reached = set(
                await session.scalars(
                    select(models.User.id).where(
                        models.User.id.in_([a.id for a in actors]), scope.reaches(environment.id)
                    )
                )
            )
            seen_by = {
                actor.id
                for actor in actors
                if await session.scalar(
                    select(models.Environment.id).where(
                        models.Environment.id == environment.id,
                        scope.environment_filter(actor.principal, models.Environment.id),
                    )
                )
            }
            assert reached == seen_by, environment.code
            assert (world.instructor.id in reached) == (environment not in (world.b1, world.bw))
            assert (past.id in reached) == (environment in (world.a1, world.aw))


async def test_the_recipients_of_a_rooms_events_are_the_active_users_of_the_roles_asked(
    world: World, factory: Factory, db: async_sessionmaker[AsyncSession]
) -> None:
    inactive = await factory.user(models.Role.SUPERVISOR, world.a2)
    async with db.begin() as session:
        await session.execute(update(models.User).where(models.User.id == inactive.id).values(is_active=False))
    async with db() as session:
        supervisors = await notifications.users_reaching(session, world.a1.id, [models.Role.SUPERVISOR])
        both = await notifications.users_reaching(
            session, world.aw.id, [models.Role.ADMIN, models.Role.INSTRUCTOR], besides=[world.student.id]
        )
    assert supervisors == [world.supervisor.id]
    assert set(both) == {world.admin.id, world.instructor.id, world.student.id}
