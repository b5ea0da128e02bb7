"""Kinds of claim the audit reads since the seeds' audit: each with a right claim (correct), its wrong twin
(incorrect, with a counterexample) and an unreadable variant (not checked, with a one-line reason)."""

from derive.audit.audit import audit
from derive.sheets import load, resolve


def judged(sheet: str, text: str) -> dict:
    """line -> finding of the audit of `text` against the bundled `sheet`."""
    return {f.line: f for f in audit(text, load(resolve(sheet))).findings}


def _one_line(reason: str) -> bool:
    return bool(reason) and "\n" not in reason


SOFTMAX_ENTRY = r"""## 1 Softmax

### 1. Show that $\text{softmax}(x) = \text{softmax}(x + c)$

$$\text{softmax}(x + c)_j = \text{softmax}(x)_j$$

$$\text{softmax}(x + c)_j = \text{softmax}(2x)_j$$

$$\text{softmax}(x + c)_j = \text{softmax}(x^T)_j$$

## 2 Neural network basics

The gradient of the cross entropy:

$$\frac{\partial CE(y, \hat{y})}{\partial \theta_j} = -y_j + \text{softmax}(\theta)_j$$

$$\frac{\partial CE(y, \hat{y})}{\partial \theta_j} = y_j - \text{softmax}(\theta)_j$$
"""


def test_an_entry_of_softmax_is_read_in_index_notation():
    found = judged("cs224n_a1", SOFTMAX_ENTRY)
    assert found[5].verdict == "correct" and found[5].evidence
    assert found[7].verdict == "incorrect" and found[7].counterexample
    assert found[9].verdict == "not checked" and "mixes index notation" in found[9].reason
    assert _one_line(found[9].reason)
    assert found[15].verdict == "correct"
    assert found[17].verdict == "incorrect" and found[17].counterexample


CASE_NOT_FREE = r"""## 2 Neural network basics

The gradient of the cross entropy, at the entries that are not the class:

$$\frac{\partial CE(y, \hat{y})}{\partial \theta} = \hat{y} - y \quad \text{for } k \neq j$$

$$\frac{\partial CE(y, \hat{y})}{\partial \theta} = \hat{y} + y \quad \text{for } k \neq j$$

$$\frac{\partial CE(y, \hat{y})}{\partial \theta} = \hat{y} \oplus y \quad \text{for } k \neq j$$
"""


def test_a_case_on_indices_the_claim_lacks_holds_when_the_claim_holds_for_every_index():
    found = judged("cs224n_a1", CASE_NOT_FREE)
    assert found[5].verdict == "correct" and "holds without the case" in found[5].evidence
    # ŷ + y differs from ŷ − y only at the class: it may hold at the entries k ≠ j the case means, so it is
    # never called incorrect (the one kind whose wrong twin is not checked, with the reason)
    assert found[7].verdict == "not checked" and "cannot apply the case" in found[7].reason
    assert found[9].verdict == "not checked" and _one_line(found[9].reason)



TEMPERED = r"""## 2 The softmax module

$$\mathbf y = softmax_\beta (\mathbf x)$$

$$\mathbf y = softmax_\beta (2\mathbf x)$$

$$\mathbf y = softmax_\gamma (\mathbf x)$$
"""


def test_softmax_with_a_temperature_subscript_is_softmax_of_beta_x():
    found = judged("nyu2020_hw1", TEMPERED)
    assert found[3].verdict == "correct" and found[3].evidence
    assert found[5].verdict == "incorrect" and found[5].counterexample
    assert found[7].verdict == "not checked" and _one_line(found[7].reason)


D_ENTRY = r"""## 1. Warm-up

$$D_{i,j} y_t = \begin{cases} x_j & i = t \\ 0 & i \neq t \end{cases}$$

$$D_{i,j} y_t = 2 x_j \quad \text{for } i = t$$

$$D_{i,j} y_t = x_j \delta_{i}$$
"""


def test_d_ij_of_an_output_entry_is_its_derivative_by_the_only_matrix_of_the_question():
    found = audit(D_ENTRY, load(resolve("nyu2019_hw1"))).findings
    first = [f for f in found if f.line == 3]
    assert [f.verdict for f in first] == ["correct", "correct"]
    assert all("read as ∂/∂W_{i,j}" in f.evidence for f in first)
    wrong, unreadable = (next(f for f in found if f.line == n) for n in (5, 7))
    assert wrong.verdict == "incorrect" and wrong.counterexample
    assert unreadable.verdict == "not checked" and _one_line(unreadable.reason)


def test_d_ij_is_not_read_where_the_question_has_no_single_matrix_variable():
    found = judged("cs224n_a1", "## 2 Neural network basics\n\n$$D_{i,j} h_t = x_j$$\n")
    assert found[3].verdict == "not checked"


CLOSED = r"""## 2 The softmax module

Notation: $\exp(z) = e^z$, and the positive part $(.)^+ = \mathrm{ReLU}(.)$.

$$\exp(z) = e^{2z}$$

$$g(z) = e^z$$

$$\exp(z) = e^{w}$$
"""


def test_an_identity_of_two_functions_of_one_letter_is_judged_by_the_checker():
    found = audit(CLOSED, load(resolve("nyu2020_hw1"))).findings
    at = {(f.line, f.latex.split("=")[0].strip()): f for f in found}
    assert at[(3, r"\exp(z)")].verdict == "correct" and "identity of two functions" in at[(3, r"\exp(z)")].evidence
    assert at[(3, "(.)^+")].verdict == "correct"
    wrong = at[(5, r"\exp(z)")]
    assert wrong.verdict == "incorrect" and wrong.counterexample
    # a function named by the document (g) or two letters: a definition, not an identity, so not checked
    assert at[(7, "g(z)")].verdict == "not checked" and _one_line(at[(7, "g(z)")].reason)
    assert at[(9, r"\exp(z)")].verdict == "not checked"


GENERIC_LAYER = r"""### 1.2 Regression Task

Each affine module computes $\mathrm{Linear}_i(x) = W^{(i)}x + b^{(i)}$.

A sign slip: $\mathrm{Linear}_i(x) = W^{(i)}x - b^{(i)}$.

A scale that is not on the sheet: $\mathrm{Linear}_i(x) = W^{(i)}x + b^{(i)} + \gamma$.
"""


def test_a_layer_written_for_every_layer_is_judged_at_each_affine_layer_of_the_network():
    found = judged("nyu_two_layer", GENERIC_LAYER)
    assert found[3].verdict == "correct"
    assert "z_1 = W^{(1)}{x}" in found[3].evidence and "z_3 = W^{(2)}{z_2}" in found[3].evidence
    assert found[5].verdict == "incorrect" and found[5].counterexample
    assert found[7].verdict == "not checked" and "unknown name" in found[7].reason and _one_line(found[7].reason)


EVERY_LAYER = r"""### Exercise 1

#### The batch recursion

$$\partial W_k = \frac{\partial L}{\partial W_k} = Z_{k-1}^T \Delta_k$$

$$\frac{\partial L}{\partial W_k} = 2\Delta_k \cdot Z_{k-1}^T$$

$$\frac{\partial L}{\partial W_k} = \Delta_{k+1} \cdot Z_{k-1}^T$$
"""


def test_a_gradient_written_for_layer_k_is_judged_at_every_layer_with_z0_the_input():
    found = audit(EVERY_LAYER, load(resolve("uva2018_pen_paper"))).findings
    first = [f for f in found if f.line == 5]
    assert first[0].verdict == "not checked"  # ∂W_k = ∂L/∂W_k names the shorthand: nothing to judge
    assert first[1].verdict == "correct" and first[1].latex.startswith(r"\partial W_k")
    assert r"\Delta_{1}" in first[1].evidence and "{X}^T" in first[1].evidence and r"\Delta_{3}" in first[1].evidence
    wrong, unreadable = (next(f for f in found if f.line == n) for n in (7, 9))
    assert wrong.verdict == "incorrect" and wrong.counterexample
    assert unreadable.verdict == "not checked" and _one_line(unreadable.reason)


WRITTEN_DERIVATIVE = r"""### Exercise 3: the multi-class hinge loss

$$\frac{\partial \sum_{l} e^{o_{l}}}{\partial o_{j}} = e^{o_{j}}$$

$$\frac{\partial \sum_{l} e^{2 o_{l}}}{\partial o_{j}} = e^{o_{j}}$$

$$\frac{\partial \sum_{l} e^{o_{l}}}{\partial o_{j}} = g(o_j)$$
"""


def test_the_derivative_of_a_written_expression_is_judged_against_sympy_diff_of_it():
    found = judged("uva2018_pen_paper", WRITTEN_DERIVATIVE)
    assert found[3].verdict == "correct" and "sympy.diff" in found[3].evidence
    assert found[5].verdict == "incorrect" and found[5].counterexample
    assert found[7].verdict == "not checked" and _one_line(found[7].reason)


def test_a_written_expression_with_a_free_index_is_not_read_as_a_number():
    found = judged("uva2018_pen_paper", "### Exercise 3: the multi-class hinge loss\n\n"
                   r"$$\frac{\partial (e^{o_k} - e^{o_l})}{\partial o_j} = e^{o_j} \delta_{jk}$$" "\n")
    assert found[3].verdict == "not checked"


PLACEHOLDERS = r"""## 2. Softmax

Write the entry as a quotient, $f(x) = \frac{g(x)}{h(x)}$.

$$f'(x) = \frac{g'(x)h(x) - g(x)h'(x)}{h^2(x)}$$

$$f'(x) = \frac{g'(x)h(x) + g(x)h'(x)}{h^2(x)}$$

$$f'(x) = \frac{g'(x)h(x) - g(x)h'(x)}{k(x)}$$
"""


def test_a_rule_stated_with_placeholder_functions_is_judged_by_the_chain_rule():
    found = judged("nyu2019_hw1", PLACEHOLDERS)
    assert found[3].verdict == "not checked"  # the definition of f: nothing to judge
    assert found[5].verdict == "correct" and "line 3" in found[5].evidence
    assert found[7].verdict == "incorrect" and found[7].counterexample
    assert found[9].verdict == "not checked" and _one_line(found[9].reason)


def test_f_prime_without_a_placeholder_definition_is_not_judged_as_a_rule():
    found = judged("nyu2019_hw1", "## 2. Softmax\n\n$$f'(x) = \\frac{g'(x)h(x) - g(x)h'(x)}{h^2(x)}$$\n")
    assert found[3].verdict == "not checked"


DOTTED_SUM = r"""## 2 The softmax module

$$y_i = \frac{e^{\beta x_i}}{e^{\beta x_1} + e^{\beta x_2} + \dots + e^{\beta x_j} + \dots + e^{\beta x_K}}$$

$$y_i = \frac{e^{\beta x_i}}{e^{x_1} + e^{x_2} + \dots + e^{x_K}}$$

$$y_i = \frac{e^{\beta x_i}}{e^{\beta x_1} + e^{\beta x_3} + \dots + e^{\beta x_K}}$$
"""


def test_a_sum_written_with_dots_is_read_as_a_sum_over_its_terms_pattern():
    found = judged("nyu2020_hw1", DOTTED_SUM)
    assert found[3].verdict == "correct" and "read as Σ" in found[3].evidence
    assert found[5].verdict == "incorrect" and found[5].counterexample
    # 1, 3, …: no pattern to follow, so the checker's own reason stands
    assert found[7].verdict == "not checked" and "ellipsis" in found[7].reason and _one_line(found[7].reason)


def test_a_written_expression_in_the_modules_outputs_is_not_differentiated_as_if_they_were_constants():
    # p = softmax(o): read as a name, p_l would not depend on o, and ∂(Σ_l p_l o_l)/∂o_j = p_j would pass
    found = judged("uva2018_pen_paper", "### Exercise 3: the multi-class hinge loss\n\n"
                   r"$$\frac{\partial \sum_{l} p_{l} o_l}{\partial o_{j}} = p_j$$" "\n")
    assert found[3].verdict == "not checked"
