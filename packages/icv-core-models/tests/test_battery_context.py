"""B6 context isolation: many threads and many overlapping async requests.

Each request names its own user; every read of the current user inside the
request must return that user, and nothing may be left behind afterwards, also
when the view raises.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.http import HttpResponse
from django.test import RequestFactory

from icv_core.middleware import CurrentUserMiddleware, get_current_user

THREADS = 32
REQUESTS_PER_THREAD = 50
ASYNC_REQUESTS = 200


class FakeUser:
    is_authenticated = True

    def __init__(self, name: str) -> None:
        self.username = name


class ViewError(Exception):
    pass


async def _later_name() -> str | None:
    await asyncio.sleep(0)
    return _name()


def _name() -> str | None:
    return getattr(get_current_user(), "username", None)


def test_threads_each_see_only_their_own_user(battery):
    barrier = threading.Barrier(THREADS)
    factory = RequestFactory()
    mismatches: list[tuple[str, str | None]] = []
    stale: list[str] = []
    served = []

    def view(request):
        # Let the other threads run between the reads.
        first = _name()
        threading.Event().wait(0)
        if first != request.user.username or _name() != request.user.username:
            mismatches.append((request.user.username, first))
        if request.GET.get("fail"):
            raise ViewError
        return HttpResponse()

    middleware = CurrentUserMiddleware(view)

    def run(thread: int) -> None:
        barrier.wait()
        for number in range(REQUESTS_PER_THREAD):
            name = f"t{thread}-r{number}"
            request = factory.get("/", {"fail": "1"} if number % 10 == 9 else {})
            request.user = FakeUser(name)
            try:
                middleware(request)
            except ViewError:
                pass
            served.append(name)
            if get_current_user() is not None:
                stale.append(name)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(served) == THREADS * REQUESTS_PER_THREAD
    assert mismatches == []
    assert stale == []
    battery(
        f"B6 context isolation (threads): T = {THREADS} threads x R = "
        f"{REQUESTS_PER_THREAD} requests ({len(served)} served, 1 in 10 raising); "
        f"{len(mismatches)} misattributed; {len(stale)} stale contexts"
    )


def test_overlapping_async_requests_each_see_only_their_own_user(battery):
    factory = RequestFactory()
    mismatches: list[tuple[str, str | None]] = []

    async def view(request):
        me = request.user.username
        seen = [_name()]
        for _ in range(3):
            # Every request yields to all the others between reads.
            await asyncio.sleep(0)
            seen.append(_name())
        # Work handed on from the request: context-copying helpers carry the
        # user; a bare executor thread starts without it.
        seen.append(await asyncio.to_thread(_name))
        seen.append(await sync_to_async(_name)())
        seen.append(await asyncio.get_running_loop().create_task(_later_name()))
        bare = await asyncio.get_running_loop().run_in_executor(pool, _name)
        if seen != [me] * len(seen) or bare is not None:
            mismatches.append((me, repr((seen, bare))))
        if me.endswith("7"):
            raise ViewError
        return HttpResponse()

    middleware = CurrentUserMiddleware(view)

    async def one(number: int) -> str | None:
        request = factory.get("/")
        request.user = FakeUser(f"a{number}")
        try:
            await middleware(request)
        except ViewError:
            pass
        return _name()

    async def main() -> list[str | None]:
        return await asyncio.gather(*(one(n) for n in range(ASYNC_REQUESTS)))

    with ThreadPoolExecutor(max_workers=4) as pool:
        after = asyncio.run(main())

    assert mismatches == []
    assert after == [None] * ASYNC_REQUESTS
    assert get_current_user() is None
    battery(
        f"B6 context isolation (asyncio): A = {ASYNC_REQUESTS} overlapping async "
        f"requests (1 in 10 raising), each read 7 times incl. to_thread, "
        f"sync_to_async and create_task; {len(mismatches)} misattributed; "
        f"0 stale contexts; run_in_executor starts without the user (asserted)"
    )
