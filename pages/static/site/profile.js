// Sign-up and profile editor: time zone detection, author autocomplete, live preview.
// Paper text is untrusted: it is only ever set with textContent, never as markup.
(function () {
  "use strict";

  function debounce(fn, ms) {
    let timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  // The browser's time zone, on the sign-up form only, when the reader has not picked one.
  function detectTimezone() {
    const select = document.querySelector("select[data-detect]");
    if (!select || select.value !== "UTC") return;
    let zone = "";
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (e) {
      return;
    }
    if (Array.from(select.options).some(function (o) { return o.value === zone; })) {
      select.value = zone;
    }
  }

  // Authors from the ingested papers, suggested as the reader types, added one per line.
  function authorSearch() {
    const box = document.getElementById("author-search");
    const textarea = document.querySelector("textarea[data-authors]");
    if (!box || !textarea) return;
    const input = document.getElementById("author-search-input");
    const list = document.getElementById("author-suggestions");
    const button = document.getElementById("author-add");
    const url = box.dataset.suggestUrl;
    box.hidden = false;
    let asked = 0;

    const suggest = debounce(function () {
      const q = input.value.trim();
      if (q.length < 2) return;
      const ticket = ++asked;
      fetch(url + "?q=" + encodeURIComponent(q), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { authors: [] }; })
        .then(function (data) {
          if (ticket !== asked) return; // an older answer arriving late
          list.replaceChildren();
          (data.authors || []).slice(0, 20).forEach(function (author) {
            const option = document.createElement("option");
            option.value = String(author.name);
            if (author.papers) option.textContent = String(author.papers);
            list.appendChild(option);
          });
        })
        .catch(function () {});
    }, 200);

    function add() {
      const name = input.value.trim();
      if (!name) return;
      const names = textarea.value.split("\n").map(function (s) { return s.trim(); })
        .filter(Boolean);
      if (!names.some(function (n) { return n.toLowerCase() === name.toLowerCase(); })) {
        names.push(name);
        textarea.value = names.join("\n");
        textarea.dispatchEvent(new Event("input", { bubbles: true }));
      }
      input.value = "";
    }

    input.addEventListener("input", suggest);
    button.addEventListener("click", add);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        add();
      }
    });
  }

  // The digest this profile would have received, asked again as the form changes.
  function livePreview() {
    const form = document.getElementById("profile-form");
    const panel = document.getElementById("preview");
    if (!form || !panel) return;
    const status = document.getElementById("preview-status");
    const items = document.getElementById("preview-items");
    const token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    let asked = 0;

    function el(tag, className, text) {
      const node = document.createElement(tag);
      if (className) node.className = className;
      if (text !== undefined) node.textContent = String(text);
      return node;
    }

    function show(data) {
      status.textContent = data.status || "";
      items.replaceChildren();
      (data.items || []).forEach(function (item) {
        const li = el("li", "preview-item");
        li.appendChild(el("span", "relevance", item.relevance + "%"));
        li.appendChild(document.createTextNode(" "));
        const link = el("a", "title", item.title);
        const url = String(item.url || "");
        if (url.indexOf("https://arxiv.org/") === 0) link.href = url;
        link.rel = "noopener";
        li.appendChild(link);
        if (item.translated_title) li.appendChild(el("span", "translated", item.translated_title));
        li.appendChild(el("span", "reason", item.reason));
        items.appendChild(li);
      });
      if (!(data.items || []).length && data.issue_date) {
        items.appendChild(el("li", "preview-empty", panel.dataset.empty));
      }
    }

    const refresh = debounce(function () {
      const ticket = ++asked;
      panel.classList.add("busy");
      status.textContent = panel.dataset.updating;
      fetch(panel.dataset.url, {
        method: "POST",
        body: new FormData(form),
        headers: { "X-CSRFToken": token, Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (r) {
          return r.json().then(function (data) { return { ok: r.ok, code: r.status, data: data }; });
        })
        .then(function (answer) {
          if (ticket !== asked) return;
          panel.classList.remove("busy");
          if (answer.ok) {
            show(answer.data);
          } else if (answer.code === 400) {
            status.textContent = panel.dataset.invalid;
          } else {
            status.textContent = answer.data.error || panel.dataset.failed;
          }
        })
        .catch(function () {
          if (ticket !== asked) return;
          panel.classList.remove("busy");
          status.textContent = panel.dataset.failed;
        });
    }, 400);

    form.addEventListener("input", refresh);
    form.addEventListener("change", refresh);
  }

  function start() {
    detectTimezone();
    authorSearch();
    livePreview();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
