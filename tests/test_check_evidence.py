"""No verdict without evidence: "correct" only once both sides of every threshold were seen.

The property tests take their answers from tests/soundness_cases.py, where an oracle that does not
use the checker (mpmath at 30 digits, on its own points) has established which are wrong and which
are equivalent to the derivative.
"""

import json
from collections import Counter
from functools import cache

import pytest
from soundness_cases import scalar_cases, vector_cases

import derive
from derive.check import check
from derive.check.compare import reference
from derive.check.netref import network_reference
from derive.check.verdict import Verdict


@cache
def deriv(target, wrt=None):
    return derive.derivative(target, wrt=wrt)


@cache
def network(spec, wrt):
    return derive.network(spec).derive(wrt)


# --- the two answers of the issue, and the right answers beside them


@pytest.mark.parametrize("answer,region", [
    (r"\mathbb{1}[x > 0]\,\mathbb{1}[x < 6]", lambda x: x > 6),  # ReLU6's derivative
    (r"\mathbb{1}[x > 0.25]", lambda x: 0 < x < 0.25),  # the kink moved
])
def test_wrong_relu_derivatives_are_incorrect_with_a_counterexample_where_they_differ(answer, region):
    v = check(deriv("relu"), answer)
    assert v.verdict == "incorrect"
    assert region(v.counterexample["values"]["x"]), v.counterexample
    assert v.evidence["kind"] == "counterexample" and "30 digits" in v.evidence["text"]


@pytest.mark.parametrize("answer", [
    r"\mathbb{1}[x > 0]", r"\mathbb{1}[x \geq 0]", "Heaviside(x)", r"\operatorname{relu}'(x)", "[x > 0]",
    r"\mathbb{1}\{x > 0\}", r"\frac{\operatorname{sgn}(x) + 1}{2}", r"\mathbb{1}[y > 0]",
    r"\begin{cases} 1 & x > 0 \\ 0 & \text{otherwise} \end{cases}",
])
def test_right_relu_derivatives_are_correct_and_say_which_threshold_they_crossed(answer):
    v = check(deriv("relu"), answer)
    assert v.verdict == "correct", v.feedback
    assert v.evidence["kind"] in ("numeric", "symbolic")
    assert "x = 0" in v.evidence["thresholds"] and "both sides of" in v.evidence["text"]
    assert v.evidence["magnitudes"][0] <= 0.011 and v.evidence["magnitudes"][1] >= 9.9


def test_a_threshold_no_point_reaches_makes_the_answer_undecided_naming_it():
    v = check(deriv("relu"), r"\mathbb{1}[x > 0] + \mathbb{1}[x > 100](x - 100)")
    assert v.verdict == "undecided"
    assert "x = 100" in v.feedback[0] and "never seen on both sides" in v.feedback[0]
    assert v.evidence["kind"] == "none" and v.evidence["uncrossed"] == ["x = 100"]


def test_a_threshold_that_cancels_symbolically_is_still_proven():
    v = check(deriv("softmax"), r"\beta y_i(\delta_{ij} - y_j)")
    assert v.verdict == "correct"
    assert v.evidence["text"].startswith("proven symbolically: equal in index form after contracting δ")
    assert v.evidence["index_patterns"] == 2  # i = j and i ≠ j


def test_every_verdict_states_its_evidence_in_text_and_json():
    d = deriv("sigmoid")
    for answer, kind in [(r"\sigma(x)(1 - \sigma(x))", "numeric"), ("y(1-y)", "symbolic"),
                         ("y(1+y)", "counterexample"), ("y/0", "none"), ("q", "none")]:
        v = check(d, answer)
        assert v.evidence["kind"] == kind and v.evidence["text"]
        assert f"evidence:   {v.evidence['text']}" in v.text()
        data = v.to_json()
        assert data["evidence"] == v.evidence and Verdict.from_json(json.loads(json.dumps(data))) == \
            Verdict.from_json(data)


# --- every registry entry: the reference's own thresholds are all crossed, right answers are correct


@pytest.mark.parametrize("target", ["relu", "leaky_relu", "elu", "hinge", "svm", "sigmoid", "softplus"])
def test_every_threshold_of_a_reference_is_seen_on_both_sides(target):
    ref = reference(deriv(target))
    assert all(not s.uncrossed for s in ref.settings)


@pytest.mark.parametrize("target,answer", [
    ("leaky_relu", r"\begin{cases} 1 & x > 0 \\ \alpha & \text{otherwise} \end{cases}"),
    ("elu", r"\begin{cases} 1 & x > 0 \\ y + \alpha & \text{otherwise} \end{cases}"),
    ("sigmoid", r"\sigma(x)(1 - \sigma(x))"),
    ("softmax", r"\begin{cases} \beta y_i(1 - y_i) & i = j \\ -\beta y_i y_j & i \neq j \end{cases}"),
    ("mse", r"2(\hat{y}_i - y_i)"),
    ("hinge", r"\sum_{l \neq t} \mathbb{1}[C + p_l - p_t > 0](p_l(\delta_{il} - p_i) - p_t(\delta_{it} - p_i))"),
    ("svm", r"\sum_{k \neq t} \mathbb{1}[\Delta + s_k - s_t > 0](\delta_{ik} - \delta_{it})"),
])
def test_right_module_answers_are_correct_with_evidence(target, answer):
    v = check(deriv(target), answer, timeout=None)
    assert v.verdict == "correct", v.feedback
    assert v.evidence["points"] >= 16 and v.evidence["kind"] in ("numeric", "symbolic")


@pytest.mark.parametrize("target,answer", [
    ("leaky_relu", r"\begin{cases} 1 & x > 0.5 \\ \alpha & \text{otherwise} \end{cases}"),
    ("elu", r"\left(\begin{cases} 1 & x > 0 \\ y + \alpha & \text{otherwise} \end{cases}\right)\mathbb{1}[x > -3]"),
    ("hinge", r"\sum_{l \neq t} \mathbb{1}[C + p_l - p_t > 0.05](p_l(\delta_{il} - p_i) - p_t(\delta_{it} - p_i))"),
    ("svm", r"\sum_{k \neq t} \mathbb{1}[s_k - s_t > 0](\delta_{ik} - \delta_{it})"),
    ("mse", r"2(\hat{y}_i - y_i)\mathbb{1}[\hat{y}_i < 8]"),
])
def test_wrong_module_answers_with_moved_or_added_thresholds_are_incorrect(target, answer):
    v = check(deriv(target), answer, timeout=None)
    assert v.verdict == "incorrect" and v.counterexample is not None


# --- networks: the reference's ReLU entries and the answer's own thresholds


NYU = "affine>relu>affine>mse"
UVA = "affine_batch>relu>affine_batch>identity>half_frobenius"


@pytest.mark.parametrize("spec,wrt,answer", [
    (NYU, "W1", r"\delta_1 x^T"),
    (NYU, "W1", r"((W_2^T \delta_2) \odot \mathbb{1}[s_1 > 0]) x^T"),
    (NYU, "b1", r"(W_2^T \delta_2) \odot \operatorname{relu}'(s_1)"),
    (UVA, "W1", r"((W_2^T \Delta_2) \odot \mathbb{1}[S_1 > 0]) X^T"),
])
def test_right_network_answers_are_correct_after_crossing_every_relu_entry(spec, wrt, answer):
    v = network(spec, wrt).check(answer)
    assert v.verdict == "correct", v.feedback
    assert "both sides of" in v.evidence["text"] and "s1 = 0" in v.evidence["text"].lower()
    assert not network_reference(network(spec, wrt)).uncrossed


@pytest.mark.parametrize("spec,wrt,answer", [
    (NYU, "W1", r"((W_2^T \delta_2) \odot \mathbb{1}[s_1 > 0.01]) x^T"),
    (NYU, "W1", r"((W_2^T \delta_2) \odot \mathbb{1}[s_1 > 0] \odot \mathbb{1}[s_1 < 6]) x^T"),
    (NYU, "b1", r"(W_2^T \delta_2) \odot \mathbb{1}[s_1 > -0.05]"),
    (UVA, "W1", r"((W_2^T \Delta_2) \odot \mathbb{1}[S_1 > 0.02]) X^T"),
])
def test_wrong_network_answers_with_moved_thresholds_are_incorrect(spec, wrt, answer):
    v = network(spec, wrt).check(answer)
    assert v.verdict == "incorrect" and v.counterexample is not None


def test_a_network_threshold_out_of_reach_is_undecided():
    v = network(NYU, "W1").check(r"((W_2^T \delta_2) \odot (\mathbb{1}[s_1 > 0] + \mathbb{1}[s_1 > 100])) x^T")
    assert v.verdict == "undecided" and "s1 = 100" in v.feedback[-1]


# --- internal failures are bugs: odd answers get a verdict of their own


@pytest.mark.parametrize("target,answer,verdict,reason", [
    ("relu", "y/0", "invalid", "divides by zero"),
    ("relu", r"\frac{1}{x - x}", "invalid", "divides by zero"),
    ("relu", r"\log(0)", "invalid", "log 0"),
    ("relu", "0/0", "invalid", "divides by zero"),
    ("relu", r"\mathbb{1}[\sqrt{-1} > 0]", "invalid", "not real"),
    ("relu", r"\max(\sqrt{-1}, x)", "invalid", "not real"),
    ("relu", "(-1)^{1/2}", "incorrect", "not a real number"),
    ("relu", "e^{1000}", "invalid", "exponent"),
    ("softmax", r"\beta y_i(\delta_{ij} - y_j)\frac{x_i^2 - x_j^2}{(x_i - x_j)(x_i + x_j)}", "incorrect", "undefined"),
    ("sigmoid", r"e^{e^{e^{x}}}", "incorrect", ""),
])
def test_odd_answers_get_a_proper_verdict(target, answer, verdict, reason):
    v = check(deriv(target), answer)
    assert v.verdict == verdict and reason in " ".join(v.feedback)
    assert "checker failed" not in " ".join(v.feedback)


# --- a notebook never shows the student's raw HTML


def test_markdown_escapes_html_and_math_delimiters_in_student_text():
    v = Verdict("invalid", r"x > 0 $ <b>", "1", ["unknown name <svg/onload=alert(1)> [a](javascript:x) $x$"], None,
                "<svg/onload=alert(1)>", {"kind": "none", "text": "<img src=x onerror=alert(1)>"})
    md = v._repr_markdown_()
    assert "<svg" not in md and "<img" not in md and "<b>" not in md
    assert "&lt;svg/onload=alert(1)&gt;" in md and r"\[a\]" in md and r"\$x\$" in md
    assert r"x \gt  0 \$ \lt b\gt " in md


def test_a_real_verdict_with_html_in_its_answer_is_escaped():
    v = check(deriv("relu"), "<svg/onload=alert(1)>")
    assert v.verdict == "invalid" and "<svg" not in v._repr_markdown_() and "<svg" not in v._repr_latex_()


# --- the property: generated answers judged against the independent oracle


def _grade(cases):
    out = Counter()
    escaped = []
    for c in cases:
        try:
            v = check(deriv(c.target), c.latex, timeout=None)
        except Exception as exc:  # noqa: BLE001 - an exception out of check() is the failure counted here
            out["failure"] += 1
            escaped.append((c.latex, repr(exc)))
            continue
        out[("wrong" if c.wrong else "equivalent", v.verdict)] += 1
        if c.wrong and v.verdict == "correct":
            escaped.append((c.target, c.latex))
        if "checker failed" in " ".join(v.feedback) or not v.evidence:
            out["failure"] += 1
            escaped.append((c.latex, v.feedback))
    return out, escaped


def test_generated_wrong_answers_are_never_correct_and_equivalent_ones_rarely_incorrect():
    cases = scalar_cases(2500, seed=1) + vector_cases(200, seed=1)
    wrong = sum(c.wrong for c in cases)
    equivalent = len(cases) - wrong
    assert wrong >= 2000 and equivalent >= 500, (wrong, equivalent)
    counts, escaped = _grade(cases)
    assert counts[("wrong", "correct")] == 0, escaped[:5]
    assert counts["failure"] == 0, escaped[:5]
    assert counts[("equivalent", "incorrect")] <= 0.01 * equivalent, counts
    assert counts[("wrong", "incorrect")] >= 0.9 * wrong, counts  # the rest: undecided, thresholds past 10


# --- the reference is built before the student's time starts


def test_building_the_reference_does_not_count_against_the_time_limit(monkeypatch):
    import time

    from derive.check import compare

    build = compare.Reference.__init__

    def slow(self, *args, **kwargs):  # a loaded machine: the reference takes longer than the limit
        time.sleep(0.6)
        build(self, *args, **kwargs)

    monkeypatch.setattr(compare.Reference, "__init__", slow)
    v = check(derive.derivative("tanh"), "1 - y^2", timeout=0.5)  # a new derivation: its reference is built now
    assert v.verdict == "correct", v.feedback


def test_building_a_network_reference_does_not_count_against_the_time_limit(monkeypatch):
    import time

    from derive.check import netref

    build = netref.NetworkReference.__init__

    def slow(self, *args, **kwargs):
        time.sleep(0.6)
        build(self, *args, **kwargs)

    monkeypatch.setattr(netref.NetworkReference, "__init__", slow)
    monkeypatch.setattr(netref, "_REFERENCES", {})
    v = check(network("affine>sigmoid>affine>mse", "W1"), r"\delta_1 x^T", timeout=0.5)
    assert v.verdict == "correct", v.feedback


def test_odd_generated_answers_never_fail_inside_the_checker():
    from soundness_cases import odd_answers

    verdicts = Counter()
    for target, answer in odd_answers(300, seed=3):
        v = check(deriv(target), answer, timeout=None)  # an exception here is the failure this test looks for
        assert "checker failed" not in " ".join(v.feedback) and v.evidence and v.evidence["text"], answer
        verdicts[v.verdict] += 1
    assert verdicts["incorrect"] > 50 and verdicts["invalid"] > 50  # the answers reach the comparison, not only the reader
