/* 学习进度页（docs/trainers/progress.md）：培训员及以上看全部学员（GET /api/progress/team，可下载 CSV），
   坐席只看自己的（GET /api/progress），没登录时请先登录。
   Everything from the API goes in with textContent (never innerHTML). */
(function () {
  "use strict";
  var el, when, errorText;  // window.caselib's shared helpers, set in start()

  function pct(x) { return x === null || x === undefined ? "—" : Math.round(x * 100) + "%"; }
  function short(title) { return title.split("：")[0]; }

  function moduleCell(m) {
    var td = el("td", "cl-nowrap");
    if (!m.attempts) { td.appendChild(el("span", "cl-empty", "没做")); return td; }
    td.appendChild(el("span", "cl-badge " + (m.passed ? "cl-quiz-passed" : "cl-quiz-open"), m.passed ? "通过" : "未通过"));
    td.appendChild(el("div", "cl-quiz-meta", "最好 " + pct(m.best) + " · 最近 " + pct(m.last) + " · " + m.attempts + " 次"));
    return td;
  }

  function start() {
    var root = document.getElementById("cl-progress");
    if (!root || !window.caselib) return;
    var cl = window.caselib;
    el = cl.el; when = cl.when; errorText = cl.errorText;
    var status = root.querySelector(".cl-status");
    var quizPage = cl.base + "newcomer/quiz.html";

    function signInNotice() {
      var n = el("div", "cl-notice cl-notice-weak");
      n.appendChild(document.createTextNode("请先登录："));
      var a = el("a", null, "登录");
      a.href = cl.base + "login.html?next=" + encodeURIComponent(location.pathname);
      n.appendChild(a);
      n.appendChild(document.createTextNode("后，培训员能看到全部学员的进度，坐席能看到自己的。"));
      root.appendChild(n);
    }

    function own() {
      cl.api("GET", "api/progress").then(function (r) {
        if (!r.ok) { status.textContent = errorText(r); return; }
        status.textContent = "";
        var p = r.data;
        root.appendChild(el("div", "cl-notice", "你只能看到自己的学习进度。团队的进度由培训员查看。"));
        var table = el("table", "cl-table cl-progress-own");
        var head = el("tr");
        ["阶段", "结果", "最近一次"].forEach(function (h) { head.appendChild(el("th", null, h)); });
        table.appendChild(el("thead")).appendChild(head);
        var body = table.appendChild(el("tbody"));
        p.modules.forEach(function (m) {
          var tr = el("tr");
          var name = el("td");
          var a = el("a", null, m.title);
          a.href = quizPage + "?module=" + encodeURIComponent(m.id);
          name.appendChild(a);
          tr.appendChild(name);
          tr.appendChild(moduleCell(m));
          tr.appendChild(el("td", "cl-nowrap", when(m.last_at)));
          body.appendChild(tr);
        });
        root.appendChild(table);
        var book = el("p");
        var a = el("a", null, "错题本里还有 " + p.wrong_book.length + " 道题");
        a.href = quizPage + "#cl-quiz-book";
        book.appendChild(a);
        root.appendChild(book);
      });
    }

    function team() {
      cl.api("GET", "api/progress/team").then(function (r) {
        if (!r.ok) { status.textContent = errorText(r); return; }
        status.textContent = "";
        var v = r.data;
        var done = v.people.filter(function (p) { return p.passed.length === v.modules.length; }).length;
        var bar = el("div", "cl-progress-bar");
        bar.appendChild(el("span", null, "共 " + v.people.length + " 位学员，" + done + " 位四个阶段都通过了（及格线 " + pct(v.pass_mark) + "）。"));
        var csv = el("a", "md-button", "下载 CSV");
        csv.href = cl.base + "api/progress/team?format=csv";
        csv.setAttribute("download", "learning-progress.csv");
        bar.appendChild(csv);
        root.appendChild(bar);
        if (!v.people.length) {
          root.appendChild(el("p", "cl-empty", "还没有学员。管理员在“账号与操作记录”页给新员工开通坐席账号，他们登录后做的测验会出现在这里。"));
          return;
        }
        var table = el("table", "cl-table cl-progress-team");
        table.id = "cl-progress-team";
        var head = el("tr");
        head.appendChild(el("th", null, "学员"));
        v.modules.forEach(function (m) { head.appendChild(el("th", null, short(m.title))); });
        ["最近活动", "最常错的地方", "错题本"].forEach(function (h) { head.appendChild(el("th", null, h)); });
        table.appendChild(el("thead")).appendChild(head);
        var body = table.appendChild(el("tbody"));
        v.people.forEach(function (p) {
          var tr = el("tr", p.disabled ? "cl-disabled" : null);
          tr.dataset.user = p.username;
          var name = el("td");
          name.appendChild(el("div", null, p.display_name));
          name.appendChild(el("div", "cl-slug", p.username + " · " + p.role_name));
          tr.appendChild(name);
          p.modules.forEach(function (m) { tr.appendChild(moduleCell(m)); });
          tr.appendChild(el("td", "cl-nowrap", when(p.last_activity)));
          var miss = el("td", "cl-progress-misses");
          if (!p.missed_topics.length) miss.appendChild(el("span", "cl-empty", "—"));
          p.missed_topics.forEach(function (t) { miss.appendChild(el("div", null, t.topic + " ×" + t.count)); });
          tr.appendChild(miss);
          tr.appendChild(el("td", null, String(p.wrong_book)));
          body.appendChild(tr);
        });
        root.appendChild(table);
      });
    }

    cl.ready.then(function () {
      if (!cl.user) { status.textContent = ""; signInNotice(); return; }
      if (cl.can("trainer")) team(); else own();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
