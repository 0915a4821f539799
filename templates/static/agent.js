// kb agent panel: search as you type (or paste a customer's message), pick with the arrows,
// Enter copies the link in the chosen format. Every copy is recorded as `link_inserted`;
// searches are sent with `source=agent`, so they stay out of the customers' figures.
(function () {
  "use strict";
  var texts = JSON.parse(document.getElementById("agent-texts").textContent);
  var input = document.getElementById("q");
  var lang = document.getElementById("lang");
  var list = document.getElementById("results");
  var status = document.getElementById("status");
  var dialog = document.getElementById("flag-dialog");
  var formats = document.querySelectorAll("input[name=format]");
  // Copies link to the section a result points at, or (unticked) to the article's top.
  var sections = document.getElementById("sections");
  var results = [];
  var active = -1;
  var searchId = null;
  var shownFor = null;
  var timer = null;
  var controller = null;

  // Language names as the filter lists them (the interface's words for them).
  var names = {};
  if (lang) Array.prototype.forEach.call(lang.options, function (o) { if (o.value) names[o.value] = o.textContent; });
  function nameOf(tag) { return names[tag] || tag; }

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (m, k) { return k in values ? values[k] : m; });
  }

  // A message (several lines, or more than six words) asks for the articles that answer it.
  // Chinese has no spaces: a dozen Han characters make about six words. The server decides
  // finally (its analyzer counts the words).
  var HAN = /[\u3400-\u9fff\uf900-\ufaff]/g;
  function isMessage(text) {
    text = text.trim();
    return text.indexOf("\n") >= 0 || text.split(/\s+/).length > 6 || (text.match(HAN) || []).length > 12;
  }

  function format() {
    var f = "markdown";
    formats.forEach(function (r) { if (r.checked) f = r.value; });
    return f;
  }

  try {
    var saved = localStorage.getItem("kb-agent-format");
    if (saved) formats.forEach(function (r) { r.checked = r.value === saved; });
  } catch (e) { /* storage may be off in an embedded frame */ }
  formats.forEach(function (r) {
    r.addEventListener("change", function () {
      try { localStorage.setItem("kb-agent-format", format()); } catch (e) { /* ignore */ }
      input.focus();
    });
  });
  try {
    if (localStorage.getItem("kb-agent-sections") === "off") sections.checked = false;
  } catch (e) { /* storage may be off in an embedded frame */ }
  sections.addEventListener("change", function () {
    try { localStorage.setItem("kb-agent-sections", sections.checked ? "on" : "off"); } catch (e) { /* ignore */ }
    shownFor = null;
    search();
    input.focus();
  });

  function say(text) { status.textContent = text; }

  function setActive(i) {
    var items = list.querySelectorAll("[role=option]");
    if (!items.length) return;
    active = (i + items.length) % items.length;
    items.forEach(function (el, n) { el.setAttribute("aria-selected", n === active ? "true" : "false"); });
    input.setAttribute("aria-activedescendant", items[active].id);
    items[active].scrollIntoView({ block: "nearest" });
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function render(data, message) {
    results = data.results || [];
    searchId = data.search_id || null;
    list.textContent = "";
    active = -1;
    input.setAttribute("aria-expanded", results.length ? "true" : "false");
    input.removeAttribute("aria-activedescendant");
    if (!results.length) { say(texts.none); return; }
    say((message ? texts.message_mode + " " : "") + (results.length === 1 ? texts.count_one : fill(texts.count, { count: results.length })));
    results.forEach(function (r, i) {
      var li = el("li", "result");
      li.id = "result-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      var head = el("div", "head");
      var title = el("a", "title", r.title);
      title.href = r.link;
      title.target = "_blank";
      title.rel = "noopener";
      title.tabIndex = -1;
      title.lang = r.lang;
      head.appendChild(title);
      head.appendChild(el("span", "lang", r.lang));
      li.appendChild(head);
      if (r.section) {
        var sec = el("p", "section", r.section.heading);
        sec.lang = r.lang;
        li.appendChild(sec);
      }
      if (r.fallback && data.reader_lang) {
        li.appendChild(el("p", "fallback", fill(texts.fallback, { language: nameOf(data.reader_lang) })));
      }
      var h = r.helpful || {};
      var votes = (h.yes || 0) + (h.no || 0);
      var rating = el("p", "rating" + (h.weak ? " weak" : ""));
      rating.textContent = votes
        ? (h.weak ? "⚠ " + texts.weak + " · " : "") + fill(texts.helpful, { rate: Math.round((h.rate || 0) * 100), votes: votes })
        : texts.no_votes;
      li.appendChild(rating);
      if (r.reply) {
        var reply = el("p", "preview reply");
        reply.appendChild(el("b", null, texts.reply + ": "));
        reply.appendChild(document.createTextNode(r.reply));
        li.appendChild(reply);
      } else if (r.summary) {
        li.appendChild(el("p", "preview", r.summary));
      }
      // The other languages, one click away: a click copies that version.
      if (r.translations && r.translations.length) {
        var also = el("p", "also");
        also.appendChild(el("span", null, texts.also_in));
        r.translations.forEach(function (t) {
          var b = el("button", null, nameOf(t.lang));
          b.type = "button";
          b.tabIndex = -1;
          b.lang = t.lang;
          b.title = t.title;
          b.dataset.lang = t.lang;
          b.setAttribute("aria-label", fill(texts.copy_in, { language: nameOf(t.lang), format: texts[format()] }) + ": " + t.title);
          b.addEventListener("click", function (e) { e.stopPropagation(); copyVersion(i, t, format()); });
          also.appendChild(b);
        });
        li.appendChild(also);
      }
      var actions = el("div", "actions");
      ["markdown", "html", "text"].forEach(function (f) {
        var b = el("button", "copy", texts[f]);
        b.type = "button";
        b.title = texts["copy_" + f];
        b.setAttribute("aria-label", texts["copy_" + f] + ": " + r.title);
        b.dataset.format = f;
        b.tabIndex = -1;
        b.addEventListener("click", function (e) { e.stopPropagation(); copy(i, f); });
        actions.appendChild(b);
      });
      var flag = el("button", "flag", texts.flag);
      flag.type = "button";
      flag.tabIndex = -1;
      flag.addEventListener("click", function (e) { e.stopPropagation(); openFlag(i); });
      actions.appendChild(flag);
      li.appendChild(actions);
      li.addEventListener("click", function () { setActive(i); input.focus(); });
      list.appendChild(li);
    });
    setActive(0);
  }

  function search() {
    var text = input.value;
    if (!text.trim()) { list.textContent = ""; results = []; say(""); shownFor = null; return; }
    var key = text + "\u0000" + (lang ? lang.value : "") + "\u0000" + sections.checked;
    if (key === shownFor) return;
    if (controller) controller.abort();
    controller = new AbortController();
    var message = isMessage(text);
    var request;
    if (message) {
      request = fetch("/api/answers", {
        method: "POST",
        signal: controller.signal,
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ text: text, lang: lang && lang.value ? lang.value : undefined, hl: texts.hl, limit: 5, source: "agent", sections: sections.checked })
      });
    } else {
      var params = new URLSearchParams({ q: text, source: "agent", partial: "1", limit: "8", hl: texts.hl });
      if (!sections.checked) params.set("sections", "false");
      if (lang && lang.value) params.set("lang", lang.value);
      request = fetch("/api/search?" + params.toString(), { signal: controller.signal, headers: { Accept: "application/json" } });
    }
    request
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (data) { shownFor = key; render(data, message); })
      .catch(function (e) { if (e.name !== "AbortError") say(texts.error); });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(search, isMessage(input.value) ? 500 : 150);
  }

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    input.focus();
    return ok ? Promise.resolve() : Promise.reject(new Error("copy"));
  }

  function writeClipboard(text, f) {
    if (navigator.clipboard && window.isSecureContext) {
      // HTML goes in as rich text too, so a rich editor pastes a link, a plain one the tag.
      if (f === "html" && window.ClipboardItem) {
        var item = new ClipboardItem({
          "text/html": new Blob([text], { type: "text/html" }),
          "text/plain": new Blob([text], { type: "text/plain" })
        });
        return navigator.clipboard.write([item]).catch(function () { return fallbackCopy(text); });
      }
      return navigator.clipboard.writeText(text).catch(function () { return fallbackCopy(text); });
    }
    return fallbackCopy(text);
  }

  // Copies `text` (the link to `path`, titled `title`) and records the inserted link.
  function copyText(text, f, path, title) {
    writeClipboard(text, f).then(function () {
      list.dataset.copied = text;
      say(fill(texts.copied, { title: title, format: texts[f] }));
      fetch("/api/events", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ type: "link_inserted", path: path, query: input.value.slice(0, 1000), search_id: searchId, source: "agent" })
      }).catch(function () {});
    }, function () { say(texts.copy_failed); });
  }

  function copy(i, f) {
    var r = results[i];
    if (!r) return;
    setActive(i);
    copyText(r.copy[f], f, r.path, r.title);
  }

  // Another language's version of result i.
  function copyVersion(i, t, f) {
    setActive(i);
    copyText(t.copy[f], f, t.path, t.title);
  }

  var flagging = -1;
  function openFlag(i) {
    flagging = i;
    document.getElementById("flag-title").textContent = fill(texts.flag_title, { title: results[i].title });
    document.getElementById("flag-note").value = "";
    if (dialog.showModal) dialog.showModal(); else dialog.setAttribute("open", "");
  }
  dialog.addEventListener("close", function () {
    var r = results[flagging];
    if (dialog.returnValue === "send" && r) {
      var form = document.getElementById("flag-form");
      var reason = form.querySelector("input[name=reason]:checked").value;
      fetch("/api/flags", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ path: r.path, reason: reason, note: form.note.value })
      })
        .then(function (res) { say(res.ok ? texts.flag_sent : texts.error); })
        .catch(function () { say(texts.error); });
    }
    dialog.returnValue = "";
    input.focus();
  });

  input.addEventListener("input", function () {
    // The box grows with a pasted message.
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 240) + "px";
    schedule();
  });
  if (lang) lang.addEventListener("change", function () { shownFor = null; search(); input.focus(); });
  input.addEventListener("keydown", function (e) {
    // In a pasted message the arrows move the caret, unless it is at the end (or Alt is held).
    var caretInside = input.value.indexOf("\n") >= 0 && input.selectionStart !== input.value.length;
    if ((e.key === "ArrowDown" || e.key === "ArrowUp") && results.length && (!caretInside || e.altKey)) {
      e.preventDefault();
      setActive(active + (e.key === "ArrowDown" ? 1 : -1));
    } else if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      clearTimeout(timer);
      if (results.length && shownFor === input.value + "\u0000" + (lang ? lang.value : "") + "\u0000" + sections.checked) {
        copy(Math.max(active, 0), format());
      } else {
        search();
      }
    } else if (e.key === "Escape") {
      input.value = "";
      input.style.height = "auto";
      search();
    }
  });
  document.getElementById("find").addEventListener("submit", function (e) { e.preventDefault(); search(); });
})();
