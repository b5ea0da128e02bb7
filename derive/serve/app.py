"""The checking page and its JSON API, on Starlette, with the warm worker pool behind it.

    GET  /                the page (HTML, the app's script, KaTeX: all served from the package)
    GET  /api/problems    the registry's targets and variables, and the parts of the loaded sheets
    POST /api/check       {target, wrt, answer} or {sheet, question, part, answer} → check's JSON

Every check runs in the pool (time and memory limit per answer). In front of it: a body-size
limit, a bound on checks in flight with a short queue (503 beyond it), a per-client rate limit
(429), a time limit on reading a request's body (408). Nothing is written to disk.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from derive.errors import DeriveError
from derive.serve.problems import Problem, find, registry_problems, sheet_problems

STATIC = Path(__file__).with_name("static")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; font-src 'self'; "
       "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "X-Frame-Options": "DENY", "Cache-Control": "no-store"}


@dataclass(frozen=True)
class Limits:
    """What one server allows; the defaults suit a class on one 2-core machine."""

    workers: int | None = None  # check processes (default: one per core)
    timeout: float = 2.0  # seconds per answer, in the worker
    memory_mb: int = 1536  # per worker
    max_body: int = 16 * 1024  # bytes of one request
    queue: int = 32  # checks waiting for a worker beyond those running; more get 503
    rate: float = 1.0  # checks per second per client, on average
    burst: int = 10  # checks a client may send at once
    body_seconds: float = 5.0  # to receive a request's body (slow clients get 408)
    show_expected: bool = False  # a class page does not give the answer away


class RateLimiter:
    """A token bucket per client address: `burst` at once, refilled at `rate` per second."""

    def __init__(self, rate: float, burst: int, clock=time.monotonic):
        self.rate, self.burst, self.clock = rate, burst, clock
        self.buckets: dict[str, tuple[float, float]] = {}

    def allow(self, client: str) -> float:
        """0 if the request may go ahead, else the seconds until it may."""
        now = self.clock()
        tokens, last = self.buckets.get(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if len(self.buckets) > 10_000:  # bounded: forget clients that have refilled completely
            self.buckets = {c: v for c, v in self.buckets.items() if v[0] < self.burst}
        if tokens >= 1:
            self.buckets[client] = (tokens - 1, now)
            return 0.0
        self.buckets[client] = (tokens, now)
        return (1 - tokens) / self.rate


class SecurityHeaders:
    """Every response, static files and errors included, carries the CSP and its companions."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k.lower().encode(), v.encode()) for k, v in HEADERS.items() if k.lower().encode() not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


@dataclass
class _State:
    limits: Limits
    problems: list[Problem]
    pool: object = None
    running: asyncio.Semaphore = None
    waiting: int = 0
    limiter: RateLimiter = None
    stats: dict = field(default_factory=lambda: {"checks": 0, "rejected": 0})


def _error(status: int, message: str, **headers) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers={**HEADERS, **headers})


def _json(data, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers=HEADERS)


async def _body(request: Request, limits: Limits) -> dict:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limits.max_body):
        raise _Refused(413, f"the request is larger than {limits.max_body} bytes")
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise _Refused(415, "send the answer as JSON (Content-Type: application/json)")
    chunks, size = [], 0

    async def read():
        nonlocal size
        async for chunk in request.stream():
            size += len(chunk)
            if size > limits.max_body:
                raise _Refused(413, f"the request is larger than {limits.max_body} bytes")
            chunks.append(chunk)

    try:
        await asyncio.wait_for(read(), limits.body_seconds)
    except asyncio.TimeoutError:
        raise _Refused(408, f"the request body took longer than {limits.body_seconds:g} s to arrive") from None
    try:
        data = json.loads(b"".join(chunks).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _Refused(400, "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise _Refused(400, "send a JSON object: {target, wrt, answer} or {sheet, question, part, answer}")
    return data


class _Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def _problem(data: dict, state: _State) -> Problem:
    answer = data.get("answer")
    if not isinstance(answer, str):
        raise _Refused(400, "'answer' must be text (LaTeX or plain)")
    wrt = data.get("wrt")
    if wrt is not None and not isinstance(wrt, str):
        raise _Refused(400, "'wrt' must be a variable's name")
    if "sheet" in data:
        sheet, question, part = data.get("sheet"), data.get("question"), data.get("part")
        if not isinstance(sheet, str) or not isinstance(question, int) or not (part is None or isinstance(part, str)):
            raise _Refused(400, "a sheet part is {sheet: name, question: number, part: letter or null, answer}")
        try:
            return find(state.problems, sheet, question, part, wrt)
        except DeriveError as exc:
            raise _Refused(404, exc.message) from None
    target = data.get("target")
    if not isinstance(target, str) or not target:
        raise _Refused(400, "name a 'target' (e.g. softmax) and a 'wrt', or a sheet part")
    return Problem(target, wrt)


async def problems(request: Request) -> JSONResponse:
    state: _State = request.app.state.derive
    return _json({"problems": [p.to_json() for p in state.problems]})


async def check(request: Request) -> JSONResponse:
    state: _State = request.app.state.derive
    limits = state.limits
    client = request.client.host if request.client else "?"
    try:
        data = await _body(request, limits)
        problem = _problem(data, state)
    except _Refused as exc:
        return _error(exc.status, exc.message)
    except ClientDisconnect:
        return _error(400, "the client went away")
    wait = state.limiter.allow(client)
    if wait:
        state.stats["rejected"] += 1
        return _error(429, f"too many checks; try again in {wait:.0f} s", **{"Retry-After": str(max(1, round(wait)))})
    if state.waiting >= limits.queue:
        state.stats["rejected"] += 1
        return _error(503, "the checker is busy; try again in a moment", **{"Retry-After": "2"})
    state.waiting += 1
    try:
        await state.running.acquire()
    finally:
        state.waiting -= 1
    try:
        verdict = await run_in_threadpool(state.pool.check, problem.target, problem.wrt, data["answer"],
                                          problem.scale)
    except DeriveError as exc:  # an unknown target or variable: the same one line as the CLI gives
        return _error(400, exc.message)
    finally:
        state.running.release()
    state.stats["checks"] += 1
    out = verdict.to_json()
    if not limits.show_expected:
        out["expected"] = None
    out["problem"] = problem.to_json()
    return _json(out)


async def page(request: Request) -> FileResponse:
    return FileResponse(STATIC / "index.html", headers=HEADERS)


def create_app(sheets: list[str] = (), limits: Limits = Limits(), pool=None) -> Starlette:
    """The ASGI app. `pool` defaults to a CheckPool started with the app and closed with it."""
    import contextlib

    problems_list = registry_problems() + sheet_problems(list(sheets))

    @contextlib.asynccontextmanager
    async def lifespan(app):
        own = pool is None
        if own:
            from derive.check.pool import CheckPool

            state.pool = await run_in_threadpool(CheckPool, limits.workers, limits.timeout, limits.memory_mb)
        try:
            yield
        finally:
            if own:
                state.pool.close()

    state = _State(limits, problems_list, pool)
    app = Starlette(routes=[
        Route("/", page),
        Route("/api/problems", problems),
        Route("/api/check", check, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ], lifespan=lifespan, middleware=[Middleware(SecurityHeaders)])

    workers = limits.workers or __import__("os").cpu_count() or 1
    state.running = asyncio.Semaphore(workers)
    state.limiter = RateLimiter(limits.rate, limits.burst)
    app.state.derive = state
    return app
