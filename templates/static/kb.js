// kb's help center script: an enhancement only. Every page works without it (search is a
// form, feedback is a form, links are links); with it, search suggests articles as you
// type, feedback is sent without leaving the page, and an article reloads itself when its
// file is saved.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // --- Search as you type: an ARIA 1.2 combobox over /api/search. ---
  function combobox(form) {
    var input = form.querySelector("input[name=q]");
    var list = form.querySelector("[role=listbox]");
    var status = form.querySelector(".kb-search-status");
    if (!input || !list) return;
    var timer = null;
    var controller = null;
    var active = -1;
    var items = [];
    var lastQuery = "";

    function close() {
      list.hidden = true;
      list.innerHTML = "";
      items = [];
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function setActive(i) {
      if (!items.length) return;
      active = (i + items.length) % items.length;
      items.forEach(function (li, j) {
        li.setAttribute("aria-selected", j === active ? "true" : "false");
      });
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    }

    function show(data) {
      list.innerHTML = "";
      items = [];
      active = -1;
      (data.results || []).forEach(function (r, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        var a = document.createElement("a");
        var sep = r.url.indexOf("?") < 0 ? "?" : "&";
        a.href = r.url + (data.search_id ? sep + "s=" + data.search_id + "&r=" + (i + 1) : "");
        a.tabIndex = -1;
        var title = document.createElement("span");
        title.className = "kb-suggestion-title";
        title.textContent = r.title;
        var snippet = document.createElement("span");
        snippet.className = "kb-suggestion-snippet";
        // The snippet is HTML-safe: escaped text with <mark> around matched words.
        snippet.innerHTML = r.snippet;
        a.appendChild(title);
        a.appendChild(snippet);
        li.appendChild(a);
        li.addEventListener("mousedown", function (e) { e.preventDefault(); });
        list.appendChild(li);
        items.push(li);
      });
      var open = items.length > 0;
      list.hidden = !open;
      input.setAttribute("aria-expanded", open ? "true" : "false");
      if (status) {
        status.textContent = open
          ? (status.dataset.count || "{count}").replace("{count}", items.length)
          : status.dataset.none || "";
      }
    }

    function suggest() {
      var q = input.value.trim();
      if (q === lastQuery) return;
      lastQuery = q;
      if (controller) controller.abort();
      if (q.length < 2) { close(); return; }
      controller = new AbortController();
      var params = new URLSearchParams({ q: input.value, limit: "6", partial: "1" });
      var lang = form.querySelector("[name=lang]");
      if (lang && lang.value) params.set("lang", lang.value);
      var hl = form.querySelector("[name=hl]");
      if (hl && hl.value) params.set("hl", hl.value);
      fetch("/api/search?" + params.toString(), { signal: controller.signal, headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (data) { if (input.value.trim() === q) show(data); })
        .catch(function () {});
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(suggest, 150);
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown") {
        if (list.hidden) { lastQuery = ""; suggest(); return; }
        e.preventDefault();
        setActive(active + 1);
      } else if (e.key === "ArrowUp") {
        if (!list.hidden) { e.preventDefault(); setActive(active - 1); }
      } else if (e.key === "Enter") {
        if (!list.hidden && active >= 0) {
          e.preventDefault();
          window.location.href = items[active].querySelector("a").href;
        }
      } else if (e.key === "Escape") {
        if (!list.hidden) { e.preventDefault(); close(); }
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
  }
  document.querySelectorAll("form.kb-search").forEach(combobox);

  // --- "Was this article helpful?" without leaving the page. ---
  // "No" is recorded the moment it is clicked; the reason and comment sent afterwards carry
  // the same vote id, so they complete that vote rather than add one.
  document.querySelectorAll("form.kb-feedback").forEach(function (form) {
    var ask = form.querySelector(".kb-feedback-ask");
    var reasons = form.querySelector(".kb-feedback-reasons");
    var counted = form.querySelector(".kb-feedback-counted");
    var done = form.querySelector(".kb-feedback-done");
    var error = form.querySelector(".kb-feedback-error");
    var path = form.querySelector("[name=path]").value;
    var id = form.querySelector("[name=vote_id]");

    function send(body, last) {
      if (error) error.hidden = true;
      if (id && id.value) body.vote_id = id.value;
      return fetch("/api/feedback", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      }).then(function (r) {
        if (!r.ok) throw new Error(r.status);
        if (!last) return;
        form.querySelectorAll(".kb-feedback-ask, .kb-feedback-reasons, .kb-feedback-counted").forEach(function (el) { el.hidden = true; });
        if (done) { done.hidden = false; done.focus(); }
      }).catch(function () { if (error) error.hidden = false; });
    }

    form.addEventListener("click", function (e) {
      var button = e.target.closest("button[name=helpful]");
      if (!button) return;
      e.preventDefault();
      if (button.value === "yes") {
        send({ path: path, helpful: true }, true);
        return;
      }
      send({ path: path, helpful: false }, false);
      if (ask) ask.hidden = true;
      if (counted) counted.hidden = false;
      if (reasons) {
        reasons.hidden = false;
        var first = reasons.querySelector("input");
        if (first) first.focus();
      }
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var reason = form.querySelector("[name=reason]:checked");
      var comment = form.querySelector("[name=comment]");
      send({
        path: path,
        helpful: false,
        reason: reason ? reason.value : undefined,
        comment: comment && comment.value.trim() ? comment.value : undefined,
      }, true);
    });
    if (reasons && !reasons.classList.contains("kb-feedback-open")) reasons.hidden = true;
  });

  // --- The contents of an article: folded on narrow screens, where they come first. ---
  var toc = document.querySelector("details.toc");
  if (toc && window.matchMedia && window.matchMedia("(max-width: 59.99rem)").matches) {
    toc.open = false;
  }

  // --- Writers: reload an article when its file is saved. ---
  var live = document.querySelector("[data-live-path]");
  if (live && window.EventSource) {
    var source = new EventSource("/api/live");
    source.addEventListener("change", function (e) {
      var paths = [];
      try { paths = JSON.parse(e.data); } catch (_) {}
      if (paths.length === 0 || paths.indexOf(live.dataset.livePath) >= 0) {
        source.close();
        window.location.reload();
      }
    });
  }
})();
