"""The command line: `derive list | show | check | grade | sheet`.

SymPy is imported only by the commands that need it, so `--help` and `list` start fast.
Every user error is one line on stderr and exit code 2; no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys

from derive.errors import DeriveError

FORMATS = ("text", "md", "tex", "json")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, as for every other bad input
        raise DeriveError(f"{self.prog}: {message}")


def _list(args) -> int:
    from derive.definitions import entries

    rows = [{"name": e.name, "kind": e.kind, "title": e.title} for e in entries()]
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        width = max(len(r["name"]) for r in rows)
        for r in rows:
            print(f"{r['name']:<{width}}  {r['kind']:<10}  {r['title']}")
    return 0


def _show(args) -> int:
    from derive import cache

    # What show prints comes from a derivation checked before it is shown (sympy.diff and finite
    # differences; a network's gradient against its generated code) and is cached with it, per
    # request and sources: a second show prints it without importing SymPy.
    print(cache.cached("shown", _show_request(args), lambda: _shown(args)), end="")
    return 0


def _show_request(args) -> dict | None:
    """What names a show's output in the cache; None (not cached) for a module registered at run time."""
    from derive import cache

    if not cache.builtin(args.target):
        return None
    return {"target": args.target, "wrt": args.wrt, "scale": str(args.cost_scale), "layout": args.layout,
            "form": args.form, "format": args.format}


def _shown(args) -> str:
    """The text `derive show` prints for `args`."""
    if ">" in args.target or args.format == "numpy":  # a network: derive.network
        from derive.network.cli import network_text

        return network_text(args)
    from derive import cache
    from derive.api import derivative

    # Checked before it is shown (sympy.diff and finite differences), once per engine: cached.
    request = (cache.derivation_request({"target": args.target}, args.wrt, args.cost_scale, args.layout)
               if cache.builtin(args.target) else None)
    d = cache.cached("derivation", request, lambda: derivative(args.target, wrt=args.wrt, scale=args.cost_scale,
                                                               layout=args.layout, verify=True))
    form = args.form or "index"
    if args.format == "json":
        from derive.render.show import form_of

        form_of(d, form)  # JSON holds both forms; a matrix form that does not exist is still an error
        return json.dumps(d.to_json(), indent=2, ensure_ascii=False) + "\n"
    if args.format == "md":
        return d.markdown(form)
    if args.format == "tex":
        return d.tex(form)
    return d.text(form)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="derive", description="Backprop derivations, step by step, verified.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("list", help="the registered modules and losses")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_list)

    p = sub.add_parser("show", help="derive a gradient step by step")
    p.add_argument("target", help="a registry name, e.g. softmax, or a chain such as affine>relu>affine>mse")
    p.add_argument("--wrt", help="the variable to differentiate by (default: the first input)")
    p.add_argument("--form", choices=("index", "matrix"),
                   help="the form the result is stated in first: index (default) or matrix; "
                        "a network shows only this form (default: both)")
    p.add_argument("--format", choices=(*FORMATS, "numpy"), default="text",
                   help="numpy (networks only): a NumPy function for the forward pass and every gradient")
    p.add_argument("--layout", choices=("denominator", "numerator"), default="denominator",
                   help="denominator: the gradient has the shape of the variable (default)")
    p.add_argument("--cost-scale", default="1", type=_number,
                   help="differentiate c·C instead of C (a layer's cost), e.g. 3")
    p.set_defaults(run=_show)

    for extend in _extensions():
        extend(sub)
    return parser


def _number(text: str):
    from fractions import Fraction

    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


# Further subcommands (check, grade, sheet) live beside their code: each module has register(subparsers).
EXTENSIONS = ("derive.check.cli", "derive.sheets.cli")


def _extensions() -> list:
    import importlib

    found = []
    for name in EXTENSIONS:
        try:
            found.append(importlib.import_module(name).register)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return found


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        code = args.run(args)
        if argv is None:  # the program is ending: spare the collection at exit, which walks every SymPy object
            import gc

            gc.freeze()
        return code
    except DeriveError as exc:
        print(f"derive: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
