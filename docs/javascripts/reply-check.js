/* 禁语检查页：输入回复草稿，300 ms 后 POST 到 api/check-reply，行内标出禁语并列出说明。
   Every piece of text (the draft, the API's answer) goes into the page with textContent or
   text nodes, never innerHTML. The API path is relative to this page (site/tools/…), like the
   search page, so the site also works behind a path prefix; at the root it is /api/check-reply.
   Offsets from the API count Unicode code points (Python), so the draft is split with
   Array.from, not indexed as UTF-16. */
(function () {
  "use strict";
  var input = document.getElementById("rc-text");
  if (!input) return;
  var status = document.getElementById("rc-status");
  var preview = document.getElementById("rc-preview");
  var list = document.getElementById("rc-hits");
  var offlineBox = document.getElementById("rc-offline");
  var API = "../api/check-reply";
  var DELAY = 300;
  var seq = 0, timer = null, lastText = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function clear() {
    preview.textContent = "";
    preview.hidden = true;
    list.textContent = "";
  }

  function offline() {
    clear();
    status.textContent = "";
    if (offlineBox) offlineBox.hidden = false;
    else status.textContent = "检查器没有连上：禁语检查需要案例库服务，请在服务器上运行 caselib serve。";
  }

  function online() {
    if (offlineBox) offlineBox.hidden = true;
  }

  /* The draft with every hit wrapped in <mark>; overlapping hits share segments. */
  function renderPreview(text, hits) {
    var chars = Array.from(text);
    var cuts = [0, chars.length];
    hits.forEach(function (h) { cuts.push(h.start, h.end); });
    cuts = cuts.filter(function (x, i, a) { return x >= 0 && x <= chars.length && a.indexOf(x) === i; })
      .sort(function (a, b) { return a - b; });
    preview.textContent = "";
    for (var i = 0; i + 1 < cuts.length; i++) {
      var a = cuts[i], b = cuts[i + 1];
      var piece = chars.slice(a, b).join("");
      var covering = hits.filter(function (h) { return h.start <= a && h.end >= b; });
      if (!covering.length) { preview.appendChild(document.createTextNode(piece)); continue; }
      var mark = el("mark", null, piece);
      mark.title = covering.map(function (h) { return "禁语" + h.phrase; }).join("、");
      var ending = covering.filter(function (h) { return h.end === b; }).map(function (h) { return h.phrase; });
      if (ending.length) mark.appendChild(el("sup", null, ending.join(",")));
      preview.appendChild(mark);
    }
    preview.hidden = false;
  }

  function renderList(hits) {
    list.textContent = "";
    hits.forEach(function (h) {
      var li = el("li");
      var head = el("p");
      head.appendChild(el("span", "rc-num", "禁语" + h.phrase));
      head.appendChild(el("span", "rc-matched", h.matched));
      li.appendChild(head);
      var why = el("p");
      why.appendChild(el("span", "rc-label", "为什么伤人："));
      why.appendChild(document.createTextNode(h.why));
      li.appendChild(why);
      var better = el("p");
      better.appendChild(el("span", "rc-label", "可以这样说："));
      better.appendChild(document.createTextNode(h.suggestion));
      li.appendChild(better);
      list.appendChild(li);
    });
  }

  function run() {
    clearTimeout(timer);
    var text = input.value;
    if (text === lastText) return;
    lastText = text;
    var mine = ++seq;
    if (!text.trim()) { clear(); status.textContent = ""; return; }
    status.textContent = "检查中…";
    fetch(API, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ text: text })
    }).then(function (resp) {
      var type = resp.headers.get("Content-Type") || "";
      if (type.indexOf("application/json") < 0) throw new Error("no api"); // a plain file server
      return resp.json().then(function (body) { return { ok: resp.ok, body: body }; });
    }).then(function (res) {
      if (mine !== seq) return; // a newer draft is on its way
      online();
      if (!res.ok || !res.body || !Array.isArray(res.body.hits)) {
        clear();
        var err = res.body && res.body.error;
        status.textContent = (err && err.message) || "检查失败，请稍后再试。";
        return;
      }
      var hits = res.body.hits;
      renderPreview(text, hits);
      renderList(hits);
      status.textContent = hits.length
        ? "发现 " + hits.length + " 处禁语，已在下面标出。"
        : "没有发现禁语。";
    }).catch(function () {
      if (mine !== seq) return;
      lastText = null; // try again on the next keystroke
      offline();
    });
  }

  input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, DELAY); });
  input.addEventListener("keydown", function (ev) { ev.stopPropagation(); }); // keys typed here are ours, not Material's shortcuts
  if (location.protocol === "file:") { offline(); return; }
  if (input.value) run();
})();
