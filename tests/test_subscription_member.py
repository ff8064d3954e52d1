"""A subscriber's queue in the hub (`Member`): messages in order, framed with the operation id,
at most `capacity` waiting; one more closes the socket once (1008) and nothing more is queued."""

from __future__ import annotations

import asyncio

import orjson

from graphql_api.api.core.subscriptions.hub import CLOSE_BEHIND, Member


class Closes:
    def __init__(self) -> None:
        self.calls: list[tuple[int, str]] = []

    async def __call__(self, code: int, reason: str) -> None:
        self.calls.append((code, reason))


async def take(member: Member, count: int) -> list[dict[str, object]]:
    stream = member.messages()
    return [orjson.loads(await anext(stream)) for _ in range(count)]


async def test_messages_arrive_in_order_framed_with_the_operation_id() -> None:
    member = Member("op-1", 10, Closes())
    for n in range(3):
        member.offer(orjson.dumps({"data": {"n": n}}).decode())
    messages = await take(member, 3)
    assert messages == [{"id": "op-1", "type": "next", "payload": {"data": {"n": n}}} for n in range(3)]


async def test_a_waiting_subscriber_is_woken_by_each_offer() -> None:
    member = Member("1", 10, Closes())
    stream = member.messages()
    for n in range(3):
        waiting = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0)  # the consumer waits on an empty queue
        assert not waiting.done()
        member.offer(f'{{"n":{n}}}')
        assert orjson.loads(await asyncio.wait_for(waiting, 10))["payload"] == {"n": n}


async def test_one_more_than_capacity_closes_the_socket_once_and_queues_nothing_more() -> None:
    closes = Closes()
    member = Member("1", 2, closes)
    for n in range(5):
        member.offer(f'{{"n":{n}}}')
    await asyncio.sleep(0)  # the close runs in a task of its own
    assert member.behind
    assert closes.calls == [CLOSE_BEHIND]
    assert [m["payload"] for m in await take(member, 2)] == [{"n": 0}, {"n": 1}]
