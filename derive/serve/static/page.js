// The checking page: every text from the server or the student goes in as textContent or through
// KaTeX (trust off, errors shown as text), never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
let problems = [];

function math(element, tex) {
  element.textContent = "";
  if (!tex) return;
  try {
    katex.render(tex, element, { throwOnError: false, trust: false, strict: "ignore", maxSize: 20, maxExpand: 200 });
  } catch (e) {
    element.textContent = tex;
  }
}

function preview() {
  const text = $("answer").value;
  math($("preview"), text.replace(/[\u2212\u2013]/g, "-"));
}

async function loadProblems() {
  const response = await fetch("/api/problems");
  const data = await response.json();
  problems = data.problems;
  const select = $("problem");
  problems.forEach((p, n) => {
    const option = document.createElement("option");
    option.value = String(n);
    option.textContent = p.title || `${p.target}: d/d${p.wrt}`;
    select.appendChild(option);
  });
}

function request(problem, answer) {
  if (problem.sheet) {
    return { sheet: problem.sheet, question: problem.question, part: problem.part, wrt: problem.wrt, answer };
  }
  return { target: problem.target, wrt: problem.wrt, answer };
}

function show(result) {
  $("result").hidden = false;
  const verdict = $("verdict");
  verdict.textContent = result.verdict;
  verdict.className = "verdict-" + result.verdict;
  $("understood-row").hidden = !result.parsed;
  math($("understood"), result.parsed || "");
  $("expected-row").hidden = !result.expected || result.verdict === "correct";
  math($("expected"), result.expected || "");
  const list = $("feedback");
  list.textContent = "";
  for (const sentence of result.feedback || []) {
    const item = document.createElement("li");
    item.textContent = sentence;
    list.appendChild(item);
  }
  const ce = result.counterexample;
  $("counterexample-row").hidden = !ce;
  $("counterexample").textContent = ce ? ce.text : "";
  const evidence = result.evidence && result.evidence.text;
  $("evidence-row").hidden = !evidence;
  $("evidence").textContent = evidence || "";
}

async function submit(event) {
  event.preventDefault();
  $("error").hidden = true;
  const problem = problems[Number($("problem").value)];
  $("submit").disabled = true;
  try {
    const response = await fetch("/api/check", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(request(problem, $("answer").value)),
    });
    const data = await response.json();
    if (!response.ok) {
      $("error").textContent = data.error || `the server answered ${response.status}`;
      $("error").hidden = false;
      return;
    }
    show(data);
  } catch (e) {
    $("error").textContent = "the checker could not be reached";
    $("error").hidden = false;
  } finally {
    $("submit").disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("answer").addEventListener("input", preview);
  $("check-form").addEventListener("submit", submit);
  loadProblems();
});
