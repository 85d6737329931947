/* 命中测试页：GET /api/explain，逐个案例显示两侧的名次、得分、匹配的词和章节。
   Everything from the API or the query goes in with textContent (never innerHTML). */
(function () {
  "use strict";
  var form = document.getElementById("cl-x-form");
  if (!form) return;
  var input = document.getElementById("cl-x-q");
  var mode = document.getElementById("cl-x-mode");
  var status = document.getElementById("cl-x-status");
  var summary = document.getElementById("cl-x-summary");
  var table = document.getElementById("cl-x-table");
  var body = table.querySelector("tbody");
  var BASE = "../";
  var WORDS = { strong: "有相近先例", weak: "没有足够相近的先例", none: "没有结果" };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function rank(n) { return n ? String(n) : "—"; }
  function line(parent, text) { parent.appendChild(el("div", null, text)); }

  function render(x) {
    summary.hidden = false;
    summary.className = "cl-notice cl-notice-" + (x.match === "strong" ? "ok" : "weak");
    summary.textContent = "";
    line(summary, "判断：" + WORDS[x.match] + "（置信度 " + x.confidence.toFixed(3) + "，阈值 " + x.threshold.toFixed(3) +
      (x.agreed ? "；关键词一侧的第一名也在语义前三，置信度已加分" : "") + "）");
    line(summary, "融合方式：" + x.method);
    line(summary, "关键词一侧用到的词：" + (x.terms.length ? x.terms.join("、") : "（没有：库里没出现过这些词）"));
    if (x.clauses.length > 1) line(summary, "切出的分句（" + x.clauses.length + "）：" + x.clauses.join(" ｜ "));
    if (x.encoded.length) line(summary, "参与向量打分的分句（" + x.encoded.length + "，关键词证据最强）：" + x.encoded.join(" ｜ "));
    body.textContent = "";
    x.cases.forEach(function (c) {
      var tr = el("tr", c.fused_rank === 1 ? "cl-x-first" : null);
      tr.appendChild(el("td", null, rank(c.fused_rank)));
      tr.appendChild(el("td", null, rank(c.dense_rank)));
      tr.appendChild(el("td", null, rank(c.bm25_rank)));
      var name = el("td");
      var a = el("a", null, c.title);
      a.href = BASE + "cases/" + c.slug + ".html";
      name.appendChild(a);
      name.appendChild(el("div", "cl-x-slug", c.slug));
      tr.appendChild(name);
      var d = el("td");
      if (c.dense_rank) {
        line(d, "得分 " + c.dense_score.toFixed(3) + "（余弦 " + c.dense_cosine.toFixed(3) + "）");
        line(d, c.dense_section + "：" + c.dense_excerpt);
      } else line(d, "—");
      tr.appendChild(d);
      var b = el("td");
      if (c.bm25_rank) {
        line(b, "得分 " + c.bm25_score.toFixed(2) + " · " + c.bm25_section);
        line(b, "匹配的词：" + c.bm25_terms.join("、"));
      } else line(b, "没有共同的词");
      tr.appendChild(b);
      body.appendChild(tr);
    });
    table.hidden = false;
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var q = input.value.trim();
    if (!q) { status.textContent = "先输入一句业主的话。"; return; }
    status.textContent = "测试中…";
    var params = new URLSearchParams({ q: q.slice(0, 500), k: "10", mode: mode.value });
    fetch(BASE + "api/explain?" + params.toString(), { credentials: "same-origin" }).then(function (resp) {
      return resp.json().then(function (data) { return { ok: resp.ok, data: data }; });
    }).then(function (r) {
      if (!r.ok) {
        status.textContent = (r.data.error && r.data.error.message) || "测试失败";
        if (r.data.error && r.data.error.code === "unauthorized") {  // trainers and reviewers only: offer the sign-in page
          var a = document.createElement("a");
          a.href = BASE + "login.html?next=" + encodeURIComponent(location.pathname);
          a.textContent = " 去登录";
          status.appendChild(a);
        }
        return;
      }
      status.textContent = "";
      render(r.data);
    }, function () {
      status.textContent = "命中测试需要案例库服务（在服务器上运行 caselib serve）；静态站点上不能用。";
    });
  });
})();
