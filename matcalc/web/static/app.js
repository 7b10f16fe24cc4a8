// matcalc's page. Every name and message from the server is inserted as text (textContent,
// never innerHTML); LaTeX goes to KaTeX with trust: false. The request lives in the URL
// (?expr=...&types=...&wrt=...), so a result can be shared and reloaded.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const KINDS = ["scalar", "vector", "matrix", "symmetric"];
  let pending = null; // the AbortController of the request in flight
  let wrtFromUrl = null; // names from the URL, used until the page has its own checkboxes

  // --- small DOM helpers, all text ---------------------------------------------------------------
  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function renderMath(target, latex, display) {
    target.replaceChildren();
    try {
      window.katex.render(latex, target, {
        displayMode: display !== false,
        throwOnError: true,
        trust: false,
        strict: "ignore",
        maxExpand: 1000,
        output: "htmlAndMathml",
      });
    } catch (error) {
      target.replaceChildren(element("code", "katex-failed", latex));
      target.title = "KaTeX could not render this: " + (error && error.message ? error.message : String(error));
    }
  }

  // --- the request and the URL ----------------------------------------------------------------------
  function namesIn(text) {
    return new Set(text.match(/[A-Za-z_][A-Za-z0-9_]*/g) || []);
  }

  function chosenWrt() {
    const boxes = document.querySelectorAll("#wrt input[type=checkbox]");
    if (boxes.length === 0) return wrtFromUrl || [];
    const present = namesIn($("expression").value);
    return Array.from(boxes).filter((box) => box.checked && present.has(box.value)).map((box) => box.value);
  }

  function currentRequest() {
    return { expression: $("expression").value, types: $("types").value.trim(), wrt: chosenWrt() };
  }

  function requestUrl(request) {
    const params = new URLSearchParams();
    params.set("expr", request.expression);
    if (request.types) params.set("types", request.types);
    if (request.wrt.length) params.set("wrt", request.wrt.join(","));
    return "?" + params.toString();
  }

  function loadFromUrl() {
    const params = new URLSearchParams(window.location.search);
    $("expression").value = params.get("expr") || "";
    $("types").value = params.get("types") || "";
    const wrt = params.get("wrt");
    wrtFromUrl = wrt ? wrt.split(",").filter((name) => name) : null;
    $("wrt").replaceChildren();
    $("wrt-box").hidden = true;
    return $("expression").value.trim() !== "";
  }

  // --- deriving -----------------------------------------------------------------------------------
  async function derive(push) {
    const request = currentRequest();
    const url = requestUrl(request);
    if (url !== window.location.search) {
      window.history[push ? "pushState" : "replaceState"](null, "", url);
    }
    if (pending) pending.abort();
    const controller = new AbortController();
    pending = controller;
    setStatus("Deriving…", false);
    document.body.setAttribute("aria-busy", "true");
    $("derive").disabled = true;
    let data = null;
    try {
      const response = await fetch("/api/derive", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(request),
        signal: controller.signal,
      });
      try {
        data = await response.json();
      } catch (error) {
        data = { ok: false, error: { message: "the server answered " + response.status + " without a result", caret: "" } };
      }
    } catch (error) {
      if (controller.signal.aborted) return;
      data = { ok: false, error: { message: "the server could not be reached (is matcalc serve still running?)", caret: "" } };
    } finally {
      if (pending === controller) {
        pending = null;
        $("derive").disabled = false;
        document.body.removeAttribute("aria-busy");
      }
    }
    if (pending !== null) return; // a newer request replaced this one
    if (data.ok) {
      wrtFromUrl = data.wrt;
      showResult(data);
    } else {
      showError(data.error || { message: "unknown error", caret: "" });
    }
  }

  function setStatus(text, problem) {
    $("status").textContent = text;
    $("status").classList.toggle("problem", Boolean(problem));
  }

  // --- errors -------------------------------------------------------------------------------------
  function showError(error) {
    $("error-message").textContent = error.message || "";
    $("error-caret").textContent = error.caret || "";
    const fix = $("error-fix");
    if (error.suggestion && error.fix) {
      fix.hidden = false;
      fix.textContent = "Use " + error.suggestion;
      fix.onclick = () => {
        $("expression").value = error.fix;
        derive(true);
      };
    } else {
      fix.hidden = true;
      fix.onclick = null;
    }
    $("error").hidden = false;
    const field = error.field === "types" ? $("types") : $("expression");
    field.setAttribute("aria-invalid", "true");
    const previous = !$("result").hidden;
    $("result").classList.toggle("stale", previous);
    setStatus(previous ? "Below, faded: the result of the last expression that worked." : "", false);
    document.body.dataset.state = "error";
  }

  function clearError() {
    $("error").hidden = true;
    $("expression").removeAttribute("aria-invalid");
    $("types").removeAttribute("aria-invalid");
  }

  // --- the result ---------------------------------------------------------------------------------
  function showResult(data) {
    clearError();
    setStatus("", false);
    showVariables(data.variables, data.wrt);
    renderMath($("expression-shown"), "\\ell = " + data.expression.latex);
    const closed = $("closed-form");
    closed.replaceChildren();
    for (const gradient of data.gradients) {
      const block = element("div", "gradient");
      block.dataset.variable = gradient.variable;
      const math = element("div", "math");
      renderMath(math, gradient.lhs_latex + " = " + gradient.latex);
      const text = element("div", "text", "∂ℓ/∂" + gradient.variable + " = ");
      text.appendChild(element("span", "closed-form-text", gradient.text));
      text.appendChild(document.createTextNode("   (" + gradient.shape + ")"));
      block.append(math, text);
      closed.appendChild(block);
    }
    showViews(data.views);
    showCheck(data.check);
    showCode(data.code);
    $("result").hidden = false;
    $("result").classList.remove("stale");
    document.body.dataset.state = "result";
  }

  function showVariables(variables, wrt) {
    const box = $("wrt");
    box.replaceChildren();
    for (const variable of variables) {
      const label = element("label", "variable");
      const check = element("input");
      check.type = "checkbox";
      check.value = variable.name;
      check.checked = wrt.includes(variable.name);
      check.addEventListener("change", () => {
        if (chosenWrt().length) derive(true);
      });
      const kind = element("select");
      kind.setAttribute("aria-label", "type of " + variable.name);
      for (const name of KINDS) {
        const option = element("option", null, name);
        option.value = name;
        option.selected = name === variable.kind;
        kind.appendChild(option);
      }
      kind.addEventListener("change", () => {
        declareType(variable.name, kind.value);
        derive(true);
      });
      label.append(check, element("span", "name", variable.name), kind, element("span", "shape", variable.shape));
      box.appendChild(label);
    }
    $("wrt-box").hidden = variables.length === 0;
  }

  function declareType(name, kind) {
    const entries = $("types").value.replace(/\s*=\s*/g, "=").split(/[\s,;]+/).filter((entry) => entry);
    const kept = entries.filter((entry) => entry.split("=")[0] !== name);
    kept.push(name + "=" + kind);
    $("types").value = kept.join(", ");
  }

  function tabs(tabList, panels, entries, label, fill) {
    tabList.replaceChildren();
    panels.replaceChildren();
    const buttons = [];
    entries.forEach((entry, index) => {
      const button = element("button", entry.unavailable ? "unavailable" : "", label(entry));
      button.type = "button";
      button.setAttribute("role", "tab");
      button.dataset.name = entry.name;
      const panel = element("div", "panel");
      panel.setAttribute("role", "tabpanel");
      panel.dataset.name = entry.name;
      fill(panel, entry);
      button.addEventListener("click", () => select(index));
      buttons.push([button, panel]);
      tabList.appendChild(button);
      panels.appendChild(panel);
    });
    function select(chosen) {
      buttons.forEach(([button, panel], index) => {
        button.setAttribute("aria-selected", String(index === chosen));
        panel.hidden = index !== chosen;
      });
    }
    select(0);
  }

  function showViews(views) {
    tabs($("view-tabs"), $("views"), views, (view) => view.name, (panel, view) => {
      panel.appendChild(element("p", "view-title", view.title));
      const math = element("div", "math");
      if (view.error) {
        math.appendChild(element("p", "note", view.error));
      } else {
        renderMath(math, view.latex);
      }
      panel.appendChild(math);
    });
  }

  function showCheck(check) {
    const box = $("check");
    box.replaceChildren();
    if (check.error) {
      box.appendChild(element("p", "verdict bad", "The check did not run"));
      box.appendChild(element("p", "note", check.error));
      return;
    }
    box.appendChild(element("p", "verdict " + (check.ok ? "ok" : "bad"),
      check.ok ? "✓ OK: the closed form agrees with both oracles" : "✗ FAILED: the closed form disagrees"));
    const table = element("table");
    const head = element("tr");
    for (const title of ["oracle", "verdict", "max abs error", "max rel error", "worst entry"]) head.appendChild(element("th", null, title));
    table.appendChild(head);
    for (const report of check.reports) {
      const row = element("tr");
      row.appendChild(element("td", null, report.oracle));
      row.appendChild(element("td", report.ok ? "yes" : "no", report.ok ? "agrees" : "DISAGREES"));
      row.appendChild(element("td", "number", report.max_abs_error));
      row.appendChild(element("td", "number", report.max_rel_error));
      const worst = element("td", "worst", report.worst);
      if (report.note) worst.appendChild(element("div", "note", report.note));
      row.appendChild(worst);
      table.appendChild(row);
    }
    box.appendChild(table);
    box.appendChild(element("p", "note",
      "At a random point (seed " + check.seed + ")" + (check.sizes ? " with " + check.sizes : "") +
      ": the elementwise chain rule by sympy, and central finite differences."));
  }

  function showCode(code) {
    const entries = code.map((entry) => ({ ...entry, name: entry.backend, unavailable: !entry.ok }));
    tabs($("code-tabs"), $("codes"), entries, (entry) => entry.title, (panel, entry) => {
      const head = element("div", "code-head");
      if (!entry.ok) {
        head.appendChild(element("p", "note", entry.title + " is unavailable: " + entry.error));
        panel.appendChild(head);
        return;
      }
      head.appendChild(element("span", "note", "value_and_grad for " + entry.title + ": standalone, imports only " + entry.title));
      const copy = element("button", "copy", "Copy");
      copy.type = "button";
      const pre = element("pre", "code");
      const source = element("code", null, entry.source);
      pre.appendChild(source);
      copy.addEventListener("click", () => copyText(entry.source, source, copy));
      head.appendChild(copy);
      panel.append(head, pre);
    });
  }

  async function copyText(text, node, button) {
    let done = false;
    try {
      await navigator.clipboard.writeText(text);
      done = true;
    } catch (error) {
      const range = document.createRange(); // the fallback: select the code and copy the selection
      range.selectNodeContents(node);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      try {
        done = document.execCommand("copy");
      } catch (ignored) {
        done = false;
      }
    }
    button.dataset.copied = done ? "copied" : "selected";
    button.textContent = done ? "Copied" : "Selected: press Ctrl+C";
    setTimeout(() => { button.textContent = "Copy"; }, 2000);
  }

  // --- start --------------------------------------------------------------------------------------
  function start() {
    $("form").addEventListener("submit", (event) => {
      event.preventDefault();
      derive(true);
    });
    $("expression").addEventListener("input", () => $("expression").removeAttribute("aria-invalid"));
    window.addEventListener("popstate", () => {
      if (loadFromUrl()) derive(false);
    });
    if (loadFromUrl()) derive(false);
    document.body.dataset.ready = "true";
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
