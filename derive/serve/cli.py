"""`derive serve`: the checking page for a class, on 127.0.0.1 unless told otherwise."""

from __future__ import annotations

import argparse
import os
import sys

from derive.errors import DeriveError


def _positive(kind):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not 0 < value <= 10_000:
            raise argparse.ArgumentTypeError(f"{text} is out of range; choose a number from 1 to 10000")
        return value
    return parse


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"not a port: {text!r}; choose 1 to 65535")
    return int(text)


def run(args) -> int:
    try:
        import uvicorn

        from derive.serve.app import Limits, create_app
    except ModuleNotFoundError as exc:
        raise DeriveError(f"derive serve needs {exc.name}: pip install 'derive-backprop[serve]'") from None
    os.environ["DERIVE_NO_CACHE"] = "1"  # the server writes nothing to disk
    limits = Limits(workers=args.workers, timeout=args.timeout, rate=args.rate, burst=args.burst,
                    queue=args.queue, show_expected=args.show_expected)
    app = create_app(args.sheet, limits)
    print(f"derive: serving http://{args.host}:{args.port}/ (Ctrl-C stops)", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_keep_alive=5,
                limit_concurrency=limits.queue * 4, h11_max_incomplete_event_size=16 * 1024)
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("serve", help="a checking page for a class (and its JSON API)",
                              description="Serve a page on which students pick a problem, type an answer and get "
                                          "the verdict. Binds 127.0.0.1 unless --host says otherwise; put a "
                                          "reverse proxy with TLS in front of it to serve a class.")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=_port, default=8000, help="port (default 8000)")
    p.add_argument("--sheet", action="append", default=[], metavar="SHEET",
                   help="a bundled sheet or a sheet file whose parts are offered (repeatable)")
    p.add_argument("--workers", type=_positive(int), default=None, help="check processes (default: one per core)")
    p.add_argument("--timeout", type=_positive(float), default=2.0, help="seconds per answer (default 2)")
    p.add_argument("--rate", type=_positive(float), default=1.0, help="checks per second per client (default 1)")
    p.add_argument("--burst", type=_positive(int), default=10, help="checks a client may send at once (default 10)")
    p.add_argument("--queue", type=_positive(int), default=32, help="checks that may wait for a worker (default 32)")
    p.add_argument("--show-expected", action="store_true",
                   help="show the expected answer with a wrong one (off: a class page does not give it away)")
    p.set_defaults(run=run)
