// Building the screens: elements, form fields with their errors, the one
// heading per screen that receives the focus, and the live region that
// announces what happens. Everything text is set with textContent; the app
// never writes markup from strings, so no text (least of all an approval's)
// can become markup.

/**
 * @typedef {string|Node|null|undefined|false} Child
 */

/**
 * Creates an element. attrs: "class", "text", "on<event>" handlers, "hidden"
 * and other attributes (false and null leave them out).
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {...(Child|Child[])} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k === "text") el.textContent = String(v);
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "value") /** @type {HTMLInputElement} */ (el).value = String(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return el;
}

const main = () => /** @type {HTMLElement} */ (document.getElementById("inhalt"));

/** The name of the app in titles. */
export const APP = "Service-App";

/**
 * Shows a screen: one h1 (which takes the focus, so screen readers announce
 * the change), then the content.
 * @param {string} title
 * @param {...(Child|Child[])} content
 */
export function screen(title, ...content) {
  const m = main();
  const heading = h("h1", { tabindex: "-1", text: title });
  m.replaceChildren(heading, ...content.flat().filter((c) => c !== null && c !== undefined && c !== false).map((c) =>
    typeof c === "string" ? document.createTextNode(c) : c));
  document.title = title + " – " + APP + " – " + insurer();
  window.scrollTo(0, 0);
  heading.focus();
  if (!performance.getEntriesByName("pforte-first-screen").length) performance.mark("pforte-first-screen");
  return m;
}

/** The insurer's name from the page. */
export function insurer() {
  const meta = document.querySelector('meta[name="pforte-insurer"]');
  return (meta && meta.getAttribute("content")) || "Ihre Krankenkasse";
}

/** The insurer's service number, or "". */
export function phone() {
  const meta = document.querySelector('meta[name="pforte-phone"]');
  return (meta && meta.getAttribute("content")) || "";
}

/** A sentence naming the service number, when there is one. */
export function callUs() {
  const p = phone();
  return p ? " Oder rufen Sie uns an: " + p + "." : "";
}

/**
 * Announces text in the polite live region.
 * @param {string} text
 */
export function announce(text) {
  const live = document.getElementById("ansage");
  if (!live) return;
  live.textContent = "";
  setTimeout(() => {
    live.textContent = text;
  }, 50);
}

/**
 * A paragraph.
 * @param {string} text
 * @param {string} [cls]
 */
export const p = (text, cls) => h("p", { class: cls, text });

/**
 * A button.
 * @param {string} text
 * @param {(ev: Event) => void} onclick
 * @param {string} [cls]
 */
export const button = (text, onclick, cls) => h("button", { type: "button", class: cls, onclick, text });

/**
 * A text or password field with its label and hint.
 * @param {{id: string, label: string, hint?: string, type?: string, autocomplete?: string, inputmode?: string,
 *   value?: string, maxlength?: number, pattern?: string}} o
 */
export function field(o) {
  const hintID = o.hint ? o.id + "-hinweis" : null;
  const input = h("input", { id: o.id, name: o.id, type: o.type || "text", autocomplete: o.autocomplete || "off",
    inputmode: o.inputmode, value: o.value, maxlength: o.maxlength, pattern: o.pattern, "aria-describedby": hintID,
    spellcheck: "false", autocapitalize: "off" });
  return h("div", { class: "field" },
    h("label", { for: o.id, text: o.label }),
    o.hint ? h("p", { class: "hint", id: hintID, text: o.hint }) : null,
    input);
}

/**
 * The value of the input with id.
 * @param {string} id
 */
export function value(id) {
  const el = /** @type {HTMLInputElement|null} */ (document.getElementById(id));
  return el ? el.value : "";
}

/**
 * A group of radio buttons.
 * @param {string} name
 * @param {string} legend
 * @param {{value: string, label: string, hint?: string}[]} choices
 */
export function radios(name, legend, choices) {
  return h("fieldset", { id: name },
    h("legend", { text: legend }),
    choices.map((c) => h("div", { class: "choice" },
      h("input", { type: "radio", name, id: name + "-" + c.value, value: c.value,
        "aria-describedby": c.hint ? name + "-" + c.value + "-hinweis" : null }),
      h("label", { for: name + "-" + c.value }, c.label,
        c.hint ? h("span", { class: "hint", id: name + "-" + c.value + "-hinweis", text: c.hint }) : null))));
}

/**
 * The checked value of a radio group, or "".
 * @param {string} name
 */
export function checked(name) {
  const el = /** @type {HTMLInputElement|null} */ (document.querySelector(`input[name="${name}"]:checked`));
  return el ? el.value : "";
}

/**
 * @typedef {{id?: string, text: string}} Problem
 */

/**
 * Shows problems on a form: a summary at its top (focused, with links to the
 * fields) and each message at its field.
 * @param {HTMLElement} form
 * @param {Problem[]} problems
 */
export function showProblems(form, problems) {
  clearProblems(form);
  const list = h("ul");
  for (const pr of problems) {
    const target = pr.id ? document.getElementById(pr.id) : null;
    if (target) {
      const errID = pr.id + "-fehler";
      const wrap = target.closest(".field") || target.closest("fieldset") || target.parentElement;
      wrap?.classList.add("has-error");
      const msg = h("p", { class: "error-text", id: errID }, h("span", { class: "visually-hidden", text: "Fehler: " }), pr.text);
      if (target.tagName === "FIELDSET") target.querySelector("legend")?.after(msg);
      else target.before(msg);
      if (target.tagName === "INPUT") {
        target.setAttribute("aria-invalid", "true");
        const d = target.getAttribute("aria-describedby");
        target.setAttribute("aria-describedby", d ? errID + " " + d : errID);
      }
      list.append(h("li", {}, h("a", { href: "#" + pr.id, onclick: (/** @type {Event} */ ev) => {
        ev.preventDefault();
        const el = /** @type {HTMLElement} */ (target.tagName === "FIELDSET" ? target.querySelector("input") : target);
        el?.focus();
      }, text: pr.text })));
    } else {
      list.append(h("li", { text: pr.text }));
    }
  }
  const summary = h("div", { class: "error-summary", role: "alert", tabindex: "-1" },
    h("h2", { text: problems.length === 1 ? "Es gibt ein Problem" : "Es gibt " + problems.length + " Probleme" }), list);
  form.prepend(summary);
  summary.focus();
}

/** @param {HTMLElement} form */
export function clearProblems(form) {
  form.querySelectorAll(".error-summary, .error-text").forEach((e) => e.remove());
  form.querySelectorAll(".has-error").forEach((e) => e.classList.remove("has-error"));
  form.querySelectorAll("[aria-invalid]").forEach((e) => {
    e.removeAttribute("aria-invalid");
    const d = (e.getAttribute("aria-describedby") || "").split(" ").filter((x) => !x.endsWith("-fehler")).join(" ");
    if (d) e.setAttribute("aria-describedby", d);
    else e.removeAttribute("aria-describedby");
  });
}

/**
 * A form whose submit runs fn while its submit button shows that it works.
 * fn's problems (a returned array) are shown on the form.
 * @param {(form: HTMLFormElement) => Promise<Problem[]|void>} fn
 * @param {...(Child|Child[])} children
 */
export function form(fn, ...children) {
  const f = /** @type {HTMLFormElement} */ (h("form", { novalidate: true }, ...children));
  f.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (f.dataset.busy) return;
    f.dataset.busy = "1";
    const submit = /** @type {HTMLButtonElement|null} */ (f.querySelector("button[type=submit]"));
    const label = submit ? submit.textContent : "";
    if (submit) {
      submit.disabled = true;
      submit.setAttribute("aria-busy", "true");
      submit.textContent = "Bitte warten …";
    }
    try {
      const problems = await fn(f);
      if (problems && problems.length && f.isConnected) showProblems(f, problems);
    } finally {
      delete f.dataset.busy;
      if (submit && submit.isConnected) {
        submit.disabled = false;
        submit.removeAttribute("aria-busy");
        submit.textContent = label;
      }
    }
  });
  return f;
}

/**
 * A submit button.
 * @param {string} text
 */
export const submit = (text) => h("button", { type: "submit", text });

/**
 * A box saying something went wrong, with role alert.
 * @param {string} text
 */
export const alertBox = (text) => h("div", { class: "alert", role: "alert" }, h("p", { text }));

/**
 * A box saying something worked.
 * @param {string} text
 */
export const okBox = (text) => h("div", { class: "notice", role: "status" }, h("p", { text }));

/**
 * A list of links as buttons to other screens.
 * @param {{text: string, go: () => void, secondary?: boolean}[]} items
 */
export function actions(items) {
  return h("ul", { class: "actions" }, items.map((i) => h("li", {}, button(i.text, i.go, i.secondary ? "secondary" : undefined))));
}

/**
 * German date and time in Europe/Berlin.
 * @param {string|Date} t
 */
export function dateTime(t) {
  const d = typeof t === "string" ? new Date(t) : t;
  if (isNaN(d.getTime())) return "";
  return new Intl.DateTimeFormat("de-DE", { timeZone: "Europe/Berlin", dateStyle: "medium", timeStyle: "short" }).format(d) + " Uhr";
}
