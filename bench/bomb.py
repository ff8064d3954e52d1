"""Time the fragment-spread bomb (issue 10, item 14) through the schema's own parse and
validation: `python -m bench.bomb 10 15 20 30`.

`query { ...Fn } fragment F0 on Query { __typename } fragment Fi on Query { ...Fi-1 ...Fi-1 }`
expands to 2^n fields from a document of about 40 bytes per level. Each size runs in a child
process with a time limit, so a size the server cannot validate reports a timeout instead of
hanging the script.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sys
import time


def bomb(levels: int) -> str:
    fragments = " ".join(f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels + 1))
    return f"query {{ ...F{levels} }} fragment F0 on Query {{ __typename }} {fragments}"


def _measure(levels: int, queue: multiprocessing.Queue[tuple[float, str]]) -> None:
    from graphql_api.api.schema import build_schema

    schema = build_schema()
    query = bomb(levels)
    started = time.perf_counter()
    result = asyncio.run(schema.execute(query))
    elapsed = time.perf_counter() - started
    messages = "; ".join(error.message for error in result.errors or [])
    queue.put((elapsed, messages or f"no error: {result.data}"))


def main(sizes: list[int], limit_s: float = 120.0) -> None:
    for levels in sizes:
        queue: multiprocessing.Queue[tuple[float, str]] = multiprocessing.Queue()
        child = multiprocessing.Process(target=_measure, args=(levels, queue))
        child.start()
        child.join(limit_s)
        if child.is_alive():
            child.kill()
            child.join()
            print(f"n={levels:2d}  {len(bomb(levels).encode()):5d} bytes  > {limit_s:.0f} s (killed)", flush=True)
            continue
        elapsed, outcome = queue.get()
        print(f"n={levels:2d}  {len(bomb(levels).encode()):5d} bytes  {elapsed * 1000:10.1f} ms  {outcome}", flush=True)


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [10, 15, 20, 30])
