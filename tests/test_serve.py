"""The checking page's API: verdicts as `derive check --json` gives them, and bad requests as 4xx."""

import json

import pytest
from starlette.testclient import TestClient  # the test extra installs Starlette and its client (httpx2)

from derive.check.verdict import Verdict
from derive.errors import DeriveError
from derive.serve.app import HEADERS, Limits, RateLimiter, create_app


class RecordingPool:
    """Stands in for the worker pool where a test is about the HTTP layer, not the checking."""

    def __init__(self):
        self.calls = []

    def check(self, target, wrt, answer, scale="1"):
        self.calls.append((target, wrt, answer, scale))
        if target == "nope":
            raise DeriveError("unknown target 'nope'; choose one of: softmax, …")
        return Verdict("incorrect", r"\text{read}", r"\beta y_i", ["missing factor β."], None, answer)


@pytest.fixture
def stub():
    pool = RecordingPool()
    with TestClient(create_app(["nyu2020_hw1"], Limits(burst=100), pool=pool)) as client:
        yield client, pool


def test_page_and_static_files_carry_the_content_security_policy(stub):
    client, _ = stub
    for path in ("/", "/static/page.js", "/static/katex/katex.min.js"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["content-security-policy"] == HEADERS["Content-Security-Policy"]
    assert "cdn" not in client.get("/").text.lower()  # the math renderer comes from the package


def test_problems_list_every_registry_variable_and_the_sheet_parts(stub):
    client, _ = stub
    problems = client.get("/api/problems").json()["problems"]
    assert {"target": "softmax", "wrt": "x"}.items() <= next(p for p in problems if p["target"] == "softmax").items()
    assert any(p["sheet"] == "nyu2020_hw1" and p["question"] >= 1 for p in problems)


def test_a_sheet_part_is_checked_against_its_own_target(stub):
    client, pool = stub
    part = next(p for p in client.get("/api/problems").json()["problems"] if p["sheet"] == "nyu2020_hw1")
    body = {"sheet": part["sheet"], "question": part["question"], "part": part["part"], "wrt": part["wrt"],
            "answer": "x"}
    assert client.post("/api/check", json=body).status_code == 200
    assert pool.calls[-1][:2] == (part["target"], part["wrt"])


def test_the_expected_answer_is_not_given_away_unless_asked(stub):
    client, _ = stub
    data = client.post("/api/check", json={"target": "softmax", "wrt": "x", "answer": "y_i"}).json()
    assert data["verdict"] == "incorrect" and data["expected"] is None and data["feedback"] == ["missing factor β."]
    with TestClient(create_app([], Limits(show_expected=True), pool=RecordingPool())) as client2:
        assert client2.post("/api/check", json={"target": "softmax", "answer": "y"}).json()["expected"] == r"\beta y_i"


@pytest.mark.parametrize("body, headers, status, words", [
    (b"{bad", {"content-type": "application/json"}, 400, "not valid JSON"),
    (b"[1, 2]", {"content-type": "application/json"}, 400, "JSON object"),
    (b'{"target": "softmax"}', {"content-type": "application/json"}, 400, "'answer' must be text"),
    (b'{"answer": "x"}', {"content-type": "application/json"}, 400, "name a 'target'"),
    (b'{"target": "softmax", "answer": "x"}', {"content-type": "text/plain"}, 415, "JSON"),
    (b'{"sheet": "nyu2020_hw1", "question": 99, "part": "z", "answer": "x"}', {"content-type": "application/json"},
     404, "no checkable part"),
    (b'{"target": "nope", "answer": "x"}', {"content-type": "application/json"}, 400, "unknown target 'nope'"),
    (json.dumps({"target": "softmax", "answer": "x" * 20000}).encode(), {"content-type": "application/json"}, 413,
     "larger than"),
])
def test_bad_requests_get_4xx_with_one_sentence(stub, body, headers, status, words):
    client, _ = stub
    response = client.post("/api/check", content=body, headers=headers)
    assert response.status_code == status
    assert words in response.json()["error"]


def test_a_client_over_its_rate_gets_429_with_retry_after():
    with TestClient(create_app([], Limits(rate=0.001, burst=2), pool=RecordingPool())) as client:
        codes = [client.post("/api/check", json={"target": "softmax", "answer": "x"}).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert int(client.post("/api/check", json={"target": "softmax", "answer": "x"}).headers["retry-after"]) >= 1


def test_rate_limiter_refills_at_its_rate():
    now = [0.0]
    limiter = RateLimiter(rate=2.0, burst=1, clock=lambda: now[0])
    assert limiter.allow("a") == 0 and limiter.allow("a") > 0 and limiter.allow("b") == 0
    now[0] += 0.5
    assert limiter.allow("a") == 0


def test_real_pool_grades_right_and_wrong_answers_with_the_check_json():
    with TestClient(create_app([], Limits(workers=1))) as client:
        right = client.post("/api/check", json={"target": "softmax", "wrt": "x",
                                                "answer": r"\beta y_i(\delta_{ij} - y_j)"}).json()
        wrong = client.post("/api/check", json={"target": "relu", "wrt": "x", "answer": r"\mathbb{1}[x > 1]"}).json()
    assert right["verdict"] == "correct" and right["parsed"] == r"\beta y_{i} \left(\delta_{ij} - y_{j}\right)"
    assert wrong["verdict"] == "incorrect" and wrong["counterexample"]
    assert set(right) >= {"verdict", "parsed", "expected", "feedback", "counterexample"}


def test_an_autograder_assertion_fails_with_the_feedback_as_its_message():
    import derive

    assert derive.assert_correct("sigmoid", "y(1 - y)").verdict == "correct"
    with pytest.raises(AssertionError, match=r"incorrect: missing factor β\. .*your answer gives"):
        derive.assert_correct("softmax", r"y_i(\delta_{ij} - y_j)", wrt="x")


def test_a_client_that_sends_its_body_too_slowly_gets_408():
    import asyncio

    app = create_app([], Limits(body_seconds=0.2), pool=RecordingPool())
    sent = []

    async def receive():
        await asyncio.sleep(5)  # a body that never arrives in time
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/api/check", "raw_path": b"/api/check",
             "headers": [(b"content-type", b"application/json"), (b"content-length", b"20")],
             "query_string": b"", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "scheme": "http",
             "http_version": "1.1", "root_path": "", "app": app}

    async def run():
        async with app.router.lifespan_context(app):
            await asyncio.wait_for(app(scope, receive, send), 3)

    asyncio.run(run())
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert start["status"] == 408 and b"took longer than 0.2 s" in body
