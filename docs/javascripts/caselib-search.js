/* 坐席检索页：实时检索、键盘操作、接听要点。
   All text from the API or the query is inserted with textContent (never innerHTML),
   so a case or a query can never inject markup. API paths are relative to this page,
   so the site works behind a path prefix too. */
(function () {
  "use strict";
  var root = document.querySelector(".cl-search");
  if (!root) return;
  var input = document.getElementById("cl-q");
  var list = document.getElementById("cl-results");
  var status = document.getElementById("cl-status");
  var notice = document.getElementById("cl-notice");
  var catSel = document.getElementById("cl-category");
  var levelSel = document.getElementById("cl-level");
  var BASE = "../";
  var seq = 0, timer = null, selected = -1, lastQuery = "";

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function link(href, text) { var a = el("a", null, text); a.href = href; return a; }
  function caseHref(url) { return BASE + url.replace(/^\//, ""); }
  /* level name -> slug (CSS class cl-level-<slug>), from the level filter's options, which the
     site writes from reference.yaml: no level name is written here */
  var LEVEL = {};
  if (levelSel) Array.prototype.forEach.call(levelSel.options, function (o) {
    if (o.value && o.dataset.slug) LEVEL[o.value] = o.dataset.slug;
  });
  function levelClass(level) { return "cl-badge" + (LEVEL[level] ? " cl-level-" + LEVEL[level] : ""); }

  function setNotice(kind, parts) {
    notice.hidden = false;
    notice.className = "cl-notice cl-notice-" + kind;
    notice.textContent = "";
    parts.forEach(function (p) { notice.appendChild(typeof p === "string" ? document.createTextNode(p) : p); });
  }
  function clearNotice() { notice.hidden = true; notice.textContent = ""; }

  function offline() {
    setNotice("offline", [
      "语义检索需要案例库服务（在服务器上运行 caselib serve）。现在打开的是静态站点，可以用页面顶部的搜索框按关键词查找，或浏览",
      link(BASE + "cases/index.html", "全部案例"), "。"
    ]);
    status.textContent = "";
    input.placeholder = "语义检索不可用：请用页面顶部的搜索框";
  }

  function snippetNode(text, marks) {
    var p = el("p", "cl-snippet"), pos = 0;
    (marks || []).forEach(function (m) {
      if (m[0] > pos) p.appendChild(document.createTextNode(text.slice(pos, m[0])));
      p.appendChild(el("mark", null, text.slice(m[0], m[1])));
      pos = m[1];
    });
    p.appendChild(document.createTextNode(text.slice(pos)));
    return p;
  }

  function agentNode(agent) {
    var box = el("div", "cl-agent");
    box.appendChild(el("div", "cl-say", "先说：" + agent.say));
    if (agent["do"] && agent["do"].length) {
      box.appendChild(el("div", "cl-label", "先做："));
      var ol = el("ol", "cl-do");
      agent["do"].forEach(function (x) { ol.appendChild(el("li", null, x)); });
      box.appendChild(ol);
    }
    if (agent.avoid && agent.avoid.length) {
      box.appendChild(el("div", "cl-label cl-label-avoid", "别说："));
      var ul = el("ul", "cl-avoid");
      agent.avoid.forEach(function (x) { ul.appendChild(el("li", null, x)); });
      box.appendChild(ul);
    }
    return box;
  }

  function feedbackNode(r) {
    var span = el("span", "cl-feedback");
    [["有用", true], ["没用", false]].forEach(function (pair) {
      var b = el("button", "cl-fb", pair[0]);
      b.type = "button";
      b.addEventListener("click", function (ev) {
        ev.stopPropagation();
        fetch(BASE + "api/feedback", {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ query: lastQuery.slice(0, 500), slug: r.slug, useful: pair[1] })
        }).then(function () { span.textContent = "已记录，谢谢"; }, function () { span.textContent = "记录失败"; });
      });
      span.appendChild(b);
    });
    return span;
  }

  function resultNode(r, i, withSnippet) {
    var li = el("li", "cl-result" + (r.weak ? " cl-weak" : ""));
    li.dataset.href = caseHref(r.url);
    li.id = "cl-r" + i;
    var head = el("div", "cl-head");
    var title = link(li.dataset.href, r.title);
    title.className = "cl-title";
    head.appendChild(title);
    head.appendChild(el("span", levelClass(r.level), r.level + "投诉"));
    head.appendChild(el("span", "cl-badge cl-category", r.category));
    if (r.weak) head.appendChild(el("span", "cl-badge cl-weak-badge", "相似度低"));
    li.appendChild(head);
    if (withSnippet && r.snippet) {
      li.appendChild(el("div", "cl-section", "匹配章节：" + r.section));
      li.appendChild(snippetNode(r.snippet, r.highlights));
    } else if (r.summary) {
      li.appendChild(el("p", "cl-snippet", r.summary));
    }
    li.appendChild(agentNode(r.agent));
    if (withSnippet) li.appendChild(feedbackNode(r));
    li.addEventListener("click", function (ev) {
      if (ev.target.tagName !== "A" && ev.target.tagName !== "BUTTON") select(i);
    });
    return li;
  }

  function select(i) {
    var items = list.querySelectorAll(".cl-result");
    if (!items.length) { selected = -1; return; }
    selected = Math.max(0, Math.min(i, items.length - 1));
    items.forEach(function (x, j) { x.classList.toggle("cl-selected", j === selected); x.setAttribute("aria-selected", j === selected); });
    items[selected].scrollIntoView({ block: "nearest" });
  }

  function render(results, withSnippet) {
    list.textContent = "";
    selected = -1;
    results.forEach(function (r, i) { list.appendChild(resultNode(r, i, withSnippet)); });
  }

  function showPopular() {
    clearNotice();
    fetch(BASE + "api/popular?k=5").then(function (resp) {
      if (!resp.ok) throw new Error(resp.status);
      return resp.json();
    }).then(function (body) {
      if (input.value.trim()) return;
      status.textContent = "常用先例（还没输入时显示）：";
      render(body.results, false);
    }).catch(offline);
  }

  function params(q) {
    var p = new URLSearchParams({ q: q, k: "5" });
    if (catSel && catSel.value) p.set("category", catSel.value);
    if (levelSel && levelSel.value) p.set("level", levelSel.value);
    return p.toString();
  }

  function run() {
    var q = input.value.trim();
    clearTimeout(timer);
    if (!q) { list.textContent = ""; showPopular(); return; }
    var mine = ++seq;
    lastQuery = q;
    status.textContent = "检索中…";
    fetch(BASE + "api/search?" + params(q)).then(function (resp) {
      return resp.json().then(function (body) { return { ok: resp.ok, body: body }; });
    }).then(function (res) {
      if (mine !== seq) return; // a newer query is on its way
      if (!res.ok) {
        render([], true);
        status.textContent = (res.body.error && res.body.error.message) || "检索失败";
        return;
      }
      var body = res.body;
      clearNotice();
      if (body.match === "none") {
        setNotice("weak", ["没有找到相关案例。先按", link(BASE + "training/reception.html", "投诉接待的基本步骤"), "处理：致歉、记录要点、说清多久回复。"]);
      } else if (body.match === "weak") {
        setNotice("weak", ["没有足够相近的先例，下面的结果相似度低，仅供参考。先按", link(BASE + "training/reception.html", "投诉接待的基本步骤"), "处理：致歉、记录要点、说清多久回复。"]);
      }
      status.textContent = body.results.length ? ("找到 " + body.results.length + " 个案例（" + Math.round(body.took_ms) + " 毫秒）") : "";
      render(body.results, true);
      if (body.match === "strong") select(0);
    }).catch(function () { if (mine === seq) offline(); });
  }

  input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 250); });
  input.addEventListener("keydown", function (ev) {
    ev.stopPropagation(); // keys typed here are ours, not Material's page shortcuts
    if (ev.key === "ArrowDown") { ev.preventDefault(); select(selected + 1); }
    else if (ev.key === "ArrowUp") { ev.preventDefault(); select(selected - 1); }
    else if (ev.key === "Enter") {
      ev.preventDefault();
      var items = list.querySelectorAll(".cl-result");
      if (selected >= 0 && items[selected] && lastQuery === input.value.trim()) window.location.href = items[selected].dataset.href;
      else run();
    } else if (ev.key === "Escape") { input.value = ""; run(); }
  });
  [catSel, levelSel].forEach(function (s) { if (s) s.addEventListener("change", run); });

  input.focus();
  if (input.value.trim()) run(); else showPopular();
})();
