"""A network as a chain of registry entries: `affine>relu>affine>mse`, options in brackets.

A chain is stages — an affine layer and at most one elementwise activation after it — and a
loss at the end. Affine layers number their parameters from the input side: W1, b1, W2, b2, …
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from derive import limits
from derive.errors import DeriveError

AFFINE = ("affine", "affine_batch")  # samples as columns: one column (with bias), or a batch (no bias)
# Losses whose prediction is one vector per sample, and those written over a K × N batch.
BATCH_LOSSES = ("half_frobenius", "mse_mean", "half_mse_mean")

_LINK = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[([^\]]*)\])?\s*$")


@dataclass(frozen=True)
class Module:
    """One link of a chain: a registry name and its options (`affine[bias=false]`)."""

    name: str
    options: tuple = ()  # ((key, value), ...)

    def option(self, key, default=None):
        return dict(self.options).get(key, default)

    @property
    def spelling(self) -> str:
        if not self.options:
            return self.name
        return f"{self.name}[{','.join(f'{k}={_show(v)}' for k, v in self.options)}]"


def _show(v) -> str:
    return {True: "true", False: "false"}.get(v, str(v)) if isinstance(v, bool) else str(v)


@dataclass(frozen=True)
class Stage:
    """Layer k: s_k = W_k z_{k-1} (+ b_k), then z_k = f_k(s_k) when an activation follows."""

    k: int
    affine: Module
    activation: Module | None
    hyper: tuple = ()  # ((name, value), ...) the activation's hyperparameters; None: left free, α_k

    @property
    def free_hyper(self) -> tuple:
        """The names of the hyperparameters left free (alpha1); the generated code takes them as arguments."""
        return tuple(f"{name}{self.k}" for name, value in self.hyper if value is None)

    @property
    def bias(self) -> bool:
        return self.affine.name == "affine" and self.affine.option("bias", True)

    @property
    def params(self) -> tuple:
        return (f"W{self.k}", f"b{self.k}") if self.bias else (f"W{self.k}",)


@dataclass(frozen=True)
class Network:
    """A chain of registry modules ending in a loss; derive it, run it, write its NumPy code."""

    stages: tuple
    loss: Module
    batch: bool  # samples as the columns of X (d_0 × N); otherwise one sample x
    spec: str = field(default="")
    names: tuple = ()  # ((key, written), …): the homework's own names (derive.network.names.declare)
    also: tuple = ()  # ((key, written, layer), …): further spellings an answer may use (names.also_read)

    @property
    def depth(self) -> int:
        return len(self.stages)

    @property
    def params(self) -> tuple:
        return tuple(p for s in self.stages for p in s.params)

    @property
    def input_name(self) -> str:
        return "X" if self.batch else "x"

    @property
    def variables(self) -> tuple:
        """What one can differentiate by: every parameter, then the input."""
        return (*self.params, self.input_name)

    def renamed(self, names: dict | None) -> Network:
        """This network printed in a homework's own names, e.g. {"s1": "z_1", "cost": "L"}; one-line
        DeriveError naming a bad entry and the valid keys (derive.network.names.declare)."""
        from derive.network.names import also_read, declare

        plain = replace(self, names=(), also=())
        return replace(self, names=declare(plain, names or {}), also=also_read(plain, names))

    def derive(self, wrt: str | None = None):
        """∂L/∂wrt (default W1): forward table, chain of Jacobians, error signals, gradient."""
        from derive.network.backprop import derive_network

        return derive_network(self, wrt)

    def numpy(self, name: str | None = None) -> str:
        """Python source of a NumPy function: forward pass and every gradient."""
        from derive.network.codegen import numpy_source

        return numpy_source(self, name)

    def example(self, **data):
        """A numeric worked example; see derive.network.numeric.example."""
        from derive.network.numeric import example

        return example(self, **data)

    def latex(self) -> str:
        return self.derive().latex()

    def markdown(self) -> str:
        return self.derive().markdown()

    def _repr_latex_(self) -> str:
        return self.latex()

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def __str__(self) -> str:
        return self.spec


def _parse_value(text: str):
    low = text.strip().lower()
    if low in ("true", "false"):
        return low == "true"
    if len(low) > limits.MAX_NUMBER_TEXT:
        raise DeriveError(f"option value {low[:20]!r}… is longer than {limits.MAX_NUMBER_TEXT} characters")
    try:
        value = float(low) if any(c in low for c in ".e") else int(low)
    except ValueError:
        raise DeriveError(f"option value {text.strip()!r} is not a number or true/false") from None
    return value


def parse_module(text: str) -> Module:
    m = _LINK.match(text)
    if not m:
        raise DeriveError(f"cannot read {text.strip()!r} as a module; write e.g. affine or affine[bias=false]")
    options = []
    for part in filter(None, (p.strip() for p in (m.group(2) or "").split(","))):
        if "=" not in part:
            raise DeriveError(f"option {part!r} of {m.group(1)} needs a value, e.g. {part}=false")
        key, value = (s.strip() for s in part.split("=", 1))
        value = _parse_value(value)
        if not isinstance(value, bool):  # finite, at most 10^6: the generated code computes with it
            limits.real(value, f"{m.group(1)}[{key}]")
        options.append((key, value))
    return Module(m.group(1), tuple(options))


def _entry(name: str):
    from derive.definitions import entry

    return entry(name, "module in the chain")


def check_module_options(mod: Module) -> None:
    from derive.definitions import get

    allowed = ["bias"] if mod.name == "affine" else [v.name for v in get(mod.name).others if v.role == "hyper"]
    for key, value in mod.options:
        if key not in allowed:
            raise DeriveError(f"{mod.name} has no option {key!r}; choose one of: {', '.join(allowed) or '(none)'}")
        if key == "bias" and not isinstance(value, bool):
            raise DeriveError(f"bias must be true or false, not {value!r}")
        if key != "bias" and (isinstance(value, bool) or value <= 0):
            raise DeriveError(f"{mod.name}[{key}] must be a positive number")


_SEPARATOR = re.compile(r">|,(?![^\[]*\])")  # > or a comma outside an option's brackets


def links(chain: str) -> list[str]:
    """`affine>relu>mse` and `affine,relu,mse` (which a shell leaves alone) → ['affine', 'relu', 'mse']."""
    return [p.strip() for p in _SEPARATOR.split(chain)]


def is_chain(target) -> bool:
    return isinstance(target, str) and len(links(target)) > 1


def derivative(target, wrt: str | None = None, *, scale=1, layout: str = "denominator", verify=None):
    """A chain's derivation (a NetworkDerivation), or a module's; as derive.derivative."""
    from derive.model.request import Request

    return derive_request(Request(target, wrt, scale, layout), verify)


def derive_request(request, verify=None, beside: bool = False):
    """The derivation a derive.model.request.Request asks for: a chain's (a NetworkDerivation) or
    a module's (derive.derivation; `beside`: its check against sympy.diff on the second core)."""
    if is_chain(request.target):
        from derive.network.cli import check_options

        check_options(request)
        return network(request.target).derive(request.wrt)
    from derive.derivation import module_derivative

    return module_derivative(request, verify, beside)


def builtin(target: str) -> bool:
    """Whether every module `target` names (a registry name or a chain) is a built-in definition,
    fixed by the package's source; one registered at run time (`define(..., register=True)`) is not.
    """
    from derive import definitions

    return all(definitions.builtin(re.match(r"\s*([^\[\s]*)", link).group(1)) for link in links(str(target)))


def network(*modules, loss: str | None = None, names: dict | None = None) -> Network:
    """A Network from a chain: `network("affine>relu>affine>mse")` or
    `network("affine", "relu", "affine", loss="mse")`.

    >>> network("affine>relu>affine>mse").params
    ('W1', 'b1', 'W2', 'b2')
    """
    parts: list[str] = []
    for m in modules:
        parts += links(str(m))
    if loss is not None:
        parts.append(loss)
    net = _build(tuple(p.strip() for p in parts))
    return net.renamed(names) if names else net


@lru_cache(maxsize=256)
def _build(parts: tuple) -> Network:
    if not parts or parts == ("",):
        raise DeriveError("empty chain; write e.g. affine>relu>affine>mse")
    mods = [parse_module(p) for p in parts]
    kinds = [_entry(m.name).kind for m in mods]
    for m in mods:
        check_module_options(m)
    if kinds[-1] != "loss":
        raise DeriveError(f"the chain ends in {mods[-1].name!r}, not a loss; end it with one of: "
                          + ", ".join(supported_losses()))
    if "loss" in kinds[:-1]:
        raise DeriveError(f"a loss may only end the chain; {mods[kinds.index('loss')].name!r} is in the middle")
    loss = mods[-1]
    if loss.name not in supported_losses():
        raise DeriveError(f"the loss {loss.name!r} is not supported in a network; choose one of: "
                          + ", ".join(supported_losses()))
    stages, current = [], None
    for m, kind in zip(mods[:-1], kinds[:-1]):
        if kind == "layer":
            if m.name not in AFFINE:
                raise DeriveError(f"layer {m.name!r} cannot be stacked here; choose one of: {', '.join(AFFINE)}")
            current = Stage(len(stages) + 1, m, None)
            stages.append(current)
            continue
        if current is None:
            raise DeriveError(f"the chain starts with {m.name!r}; start it with an affine layer: {', '.join(AFFINE)}")
        if current.activation is not None:
            raise DeriveError(f"two activations in a row ({current.activation.name}, {m.name}); "
                              "put one activation after each affine layer")
        from derive.definitions import get

        if not get(m.name).elementwise:
            raise DeriveError(f"{m.name} is not elementwise; in a network use it inside the loss "
                              "(e.g. softmax_cross_entropy), or choose one of: " + ", ".join(elementwise_activations()))
        if len(get(m.name).inputs) > 1:  # dropout's mask: data a chain has no way to pass
            raise DeriveError(f"{m.name} takes {' and '.join(v.name for v in get(m.name).inputs)}, and a chain "
                              "feeds it one value; build a graph (derive.graph) with the others as inputs")
        if not network_ready(get(m.name)):
            raise DeriveError(f"{m.name} is not available in a network yet (it uses "
                              f"{', '.join(_unprintable(get(m.name)))}); derive it alone or build it as a graph "
                              "(derive.graph), or choose one of: "
                              + ", ".join(elementwise_activations()))
        hyper = tuple((v.name, m.option(v.name)) for v in get(m.name).others if v.role == "hyper")
        current = replace(current, activation=m, hyper=hyper)  # bound once here, read by every stage after
        stages[-1] = current
    if not stages:
        raise DeriveError("the chain has no affine layer; start it with one of: " + ", ".join(AFFINE))
    layers = {s.affine.name for s in stages}
    if len(layers) > 1:
        raise DeriveError("mix of affine (one sample) and affine_batch (columns as samples); use one of them")
    batch = layers == {"affine_batch"}
    if batch and loss.name not in BATCH_LOSSES:
        raise DeriveError(f"affine_batch layers need a loss over the batch; choose one of: {', '.join(BATCH_LOSSES)}")
    if not batch and loss.name in BATCH_LOSSES:
        raise DeriveError(f"{loss.name} is a loss over a batch of columns; use affine_batch layers, "
                          "or one of: " + ", ".join(x for x in supported_losses() if x not in BATCH_LOSSES))
    spec = ">".join(m.spelling for m in mods)
    return Network(tuple(stages), loss, batch, spec)


NETWORK_HYPERS = ("alpha", "beta")  # the hyperparameters the generated code takes (codegen._hypers)


def _unprintable(defn) -> list:
    """Hyperparameters a network's generated code cannot bind (the mask and keep probability of dropout,
    γ, δ, c); an activation's named quantities are expanded in a network (derive.network.local)."""
    import sympy as sp

    erf = ["erf"] if defn.expr.has(sp.erf) else []  # the generated NumPy code has no erf
    return [v.name for v in defn.others if v.role == "hyper" and v.name not in NETWORK_HYPERS] + erf


def network_ready(defn) -> bool:
    return not _unprintable(defn)


def elementwise_activations() -> list:
    from derive.definitions import entries, get

    return [e.name for e in entries() if e.kind == "activation" and get(e.name).elementwise
            and network_ready(get(e.name))]


def supported_losses() -> list:
    """Losses of a prediction (one vector per sample, or a K × N batch) against a target of the same shape."""
    from derive.definitions import entries, get

    out = []
    for e in entries():
        if e.kind != "loss":
            continue
        d = get(e.name)
        target = [v for v in d.others if v.role == "target"]
        if (len(d.inputs) == 1 and target and target[0].shape == d.inputs[0].shape and d.inputs[0].shape
                and network_ready(d)):
            out.append(e.name)
    return out
