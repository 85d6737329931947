/* 测验与错题本页（docs/newcomer/quiz.md）：?module=day-1 … 做一次测验（GET /api/quiz/{module}），
   交卷由服务器判分（POST /api/quiz/{module}/attempts），逐题显示对错、解释和出处；页面下方是错题本。
   登录时成绩和错题本在服务器上（GET /api/progress）；没登录时只存在这台电脑的浏览器里（localStorage）。
   Everything from the API goes in with textContent (never innerHTML). */
(function () {
  "use strict";
  var STORE = "caselib.quiz.v1";
  var RIGHT_NEEDED = 2;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function pct(x) { return Math.round(x * 100) + "%"; }
  function errorText(r) {
    if (r.data && r.data.error && r.data.error.message) return r.data.error.message;
    return "出错了（HTTP " + r.status + "）— 刷新页面再试一次";
  }

  /* ---- the browser's own record, for a learner who is not signed in ---- */
  function load() {
    try {
      var s = JSON.parse(window.localStorage.getItem(STORE) || "null");
      if (s && s.modules && s.book) return s;
    } catch (e) { /* unreadable: start again */ }
    return { modules: {}, book: {} };
  }
  function save(s) {
    try { window.localStorage.setItem(STORE, JSON.stringify(s)); } catch (e) { /* private mode: nothing kept */ }
  }
  function remember(module, quiz, graded) {
    var s = load();
    var m = s.modules[module] || { attempts: 0, best: null, passed: false };
    m.attempts += 1;
    m.last = graded.score;
    m.best = m.best === null || graded.score > m.best ? graded.score : m.best;
    m.passed = m.passed || graded.passed;
    m.last_at = new Date().toISOString();
    m.last_attempt = quiz.attempt;
    s.modules[module] = m;
    var byId = {};
    quiz.questions.forEach(function (q) { byId[q.id] = q; });
    graded.results.forEach(function (r) {
      var b = s.book[r.id];
      if (!r.correct) {
        s.book[r.id] = { id: r.id, module: module, stem: byId[r.id].stem, answer_text: r.answer_text, why: r.why, url: r.url,
          topic: r.topic, misses: (b ? b.misses : 0) + 1, right_since: 0, right_needed: RIGHT_NEEDED, missed_at: m.last_at };
      } else if (b) {
        b.right_since += 1;
        if (b.right_since >= RIGHT_NEEDED) delete s.book[r.id];
      }
    });
    save(s);
  }
  function localBook(module) {
    var s = load(), out = [];
    Object.keys(s.book).forEach(function (k) { if (!module || s.book[k].module === module) out.push(s.book[k]); });
    out.sort(function (a, b) { return a.missed_at < b.missed_at ? 1 : -1; });
    return out;
  }

  function start() {
    var root = document.getElementById("cl-quiz");
    if (!root || !window.caselib) return;
    var cl = window.caselib;
    var params = new URLSearchParams(location.search);
    var module = params.get("module");
    var status = root.querySelector(".cl-status");
    var who = el("div", "cl-notice");
    var list = el("div", "cl-quiz-modules");
    var area = el("div", "cl-quiz-area");
    var bookBox = el("section", "cl-quiz-book");
    bookBox.id = "cl-quiz-book";
    root.appendChild(who);
    root.appendChild(list);
    root.appendChild(area);
    root.appendChild(bookBox);
    var modules = [];
    var progress = null; // GET /api/progress when signed in

    function signedIn() { return !!cl.user; }

    function renderWho() {
      who.textContent = "";
      if (signedIn()) {
        who.className = "cl-notice cl-notice-ok cl-quiz-who";
        who.textContent = "已登录为 " + cl.user.display_name + "：成绩和错题本保存在你的账号里，培训员能看到你的学习进度。";
        return;
      }
      who.className = "cl-notice cl-notice-weak cl-quiz-who";
      who.appendChild(document.createTextNode("你还没有登录：测验照常可以做，但成绩和错题本只保存在这台电脑的浏览器里，" +
        "换电脑或清除浏览器数据就没有了，培训员也看不到。"));
      var a = el("a", null, "登录");
      a.href = cl.base + "login.html?next=" + encodeURIComponent(location.pathname + location.search);
      who.appendChild(a);
      who.appendChild(document.createTextNode("后成绩会记到你的账号。"));
    }

    function moduleRecord(id) {
      if (progress) {
        var m = progress.modules.filter(function (x) { return x.id === id; })[0];
        return m && m.attempts ? m : null;
      }
      return load().modules[id] || null;
    }

    function renderList() {
      list.textContent = "";
      list.appendChild(el("h2", null, "四个阶段的测验"));
      var ul = el("ul", "cl-quiz-list");
      modules.forEach(function (m) {
        var li = el("li", m.id === module ? "cl-quiz-current" : null);
        var a = el("a", null, m.title);
        a.href = "?module=" + encodeURIComponent(m.id);
        li.appendChild(a);
        li.appendChild(el("span", "cl-quiz-meta", " · " + m.questions + " 题 · " + m.covers));
        var rec = moduleRecord(m.id);
        var state = !rec ? "还没做" : rec.passed ? "已通过（最好 " + pct(rec.best) + "）" : "最好 " + pct(rec.best) + "，还没通过";
        li.appendChild(el("span", "cl-badge " + (rec && rec.passed ? "cl-quiz-passed" : "cl-quiz-open"), state));
        ul.appendChild(li);
      });
      list.appendChild(ul);
    }

    function renderBook() {
      bookBox.textContent = "";
      bookBox.appendChild(el("h2", null, "错题本"));
      var items = progress ? progress.wrong_book : localBook(null);
      var note = signedIn() ? "答错的题会在之后同一阶段的测验里再出现，答对两次就移出错题本。"
        : "答错的题会在之后同一阶段的测验里再出现，答对两次就移出错题本。（只保存在这台电脑的浏览器里）";
      bookBox.appendChild(el("p", "cl-quiz-meta", note));
      if (!items.length) {
        bookBox.appendChild(el("p", "cl-empty", "错题本是空的。做一次测验，答错的题会记在这里。"));
        return;
      }
      var titles = {};
      modules.forEach(function (m) { titles[m.id] = m.title.split("：")[0]; });
      var ul = el("ul", "cl-quiz-book-list");
      items.forEach(function (b) {
        var li = el("li", "cl-quiz-book-item");
        li.dataset.question = b.id;
        li.appendChild(el("div", "cl-quiz-stem", b.stem));
        li.appendChild(el("div", "cl-quiz-answer", "正确答案：" + b.answer_text));
        li.appendChild(el("div", "cl-quiz-why", b.why));
        var src = el("a", null, "看出处");
        src.href = cl.base + b.url;
        var meta = el("div", "cl-quiz-meta", (titles[b.module] || b.module) + " · " + b.topic + " · 答错 " + b.misses +
          " 次，之后答对 " + b.right_since + "/" + (b.right_needed || RIGHT_NEEDED) + " 次 · ");
        meta.appendChild(src);
        li.appendChild(meta);
        ul.appendChild(li);
      });
      bookBox.appendChild(ul);
    }

    function refresh() {
      if (!signedIn()) { progress = null; renderList(); renderBook(); return Promise.resolve(); }
      return cl.api("GET", "api/progress").then(function (r) {
        progress = r.ok ? r.data : null;
        renderList();
        renderBook();
      });
    }

    function takeQuiz() {
      area.textContent = "";
      status.textContent = "正在出题…";
      var path = "api/quiz/" + encodeURIComponent(module);
      if (!signedIn()) {
        var q = [];
        var last = (load().modules[module] || {}).last_attempt;
        if (last) q.push("after=" + encodeURIComponent(last));
        var again = localBook(module).map(function (b) { return b.id; });
        if (again.length) q.push("review=" + encodeURIComponent(again.join(",")));
        if (q.length) path += "?" + q.join("&");
      }
      cl.api("GET", path).then(function (r) {
        if (!r.ok) { status.textContent = errorText(r); return; }
        status.textContent = "";
        renderQuiz(r.data);
      });
    }

    function renderQuiz(quiz) {
      area.textContent = "";
      area.appendChild(el("h2", null, quiz.title));
      area.appendChild(el("p", "cl-quiz-meta", "共 " + quiz.questions.length + " 题，答对 " + pct(quiz.pass_mark) +
        " 就通过。选好后点最下面的“交卷”。"));
      var form = el("form", "cl-quiz-form");
      form.id = "cl-quiz-form";
      quiz.questions.forEach(function (q, i) {
        var box = el("fieldset", "cl-quiz-q");
        box.dataset.question = q.id;
        var legend = el("legend", null, "第 " + (i + 1) + " 题 · " + q.kind_name);
        if (q.review) legend.appendChild(el("span", "cl-badge cl-quiz-review", "错题重做"));
        box.appendChild(legend);
        box.appendChild(el("div", "cl-quiz-stem", q.stem));
        q.options.forEach(function (text, j) {
          var label = el("label", "cl-quiz-option");
          var input = el("input");
          input.type = "radio";
          input.name = "q" + i;
          input.value = String(j);
          label.appendChild(input);
          label.appendChild(el("span", null, text));
          box.appendChild(label);
        });
        form.appendChild(box);
      });
      var bar = el("div", "cl-quiz-bar");
      var submit = el("button", "md-button md-button--primary", "交卷");
      submit.type = "submit";
      var note = el("span", "cl-quiz-meta");
      note.setAttribute("role", "status");
      bar.appendChild(submit);
      bar.appendChild(note);
      form.appendChild(bar);
      var warned = false;
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var answers = {}, missing = 0;
        quiz.questions.forEach(function (q, i) {
          var picked = form.querySelector('input[name="q' + i + '"]:checked');
          if (picked) answers[q.id] = Number(picked.value); else missing += 1;
        });
        if (missing && !warned) {
          warned = true;
          note.textContent = "还有 " + missing + " 题没有作答，没答的算答错；再点一次“交卷”就交卷。";
          return;
        }
        submit.disabled = true;
        note.textContent = "正在判分…";
        cl.api("POST", "api/quiz/" + encodeURIComponent(quiz.module) + "/attempts", { attempt: quiz.attempt, answers: answers })
          .then(function (r) {
            if (!r.ok) { submit.disabled = false; note.textContent = errorText(r); return; }
            note.textContent = "";
            if (!r.data.saved) remember(quiz.module, quiz, r.data);
            showResults(form, quiz, r.data);
            refresh();
          });
      });
      area.appendChild(form);
    }

    function showResults(form, quiz, g) {
      Array.prototype.forEach.call(form.querySelectorAll("input"), function (x) { x.disabled = true; });
      var bar = form.querySelector(".cl-quiz-bar");
      bar.textContent = "";
      var byId = {};
      g.results.forEach(function (r) { byId[r.id] = r; });
      Array.prototype.forEach.call(form.querySelectorAll(".cl-quiz-q"), function (box) {
        var r = byId[box.dataset.question];
        if (!r) return;
        box.classList.add(r.correct ? "cl-quiz-right" : "cl-quiz-wrong");
        var labels = box.querySelectorAll(".cl-quiz-option");
        Array.prototype.forEach.call(labels, function (label, j) {
          if (j === r.answer) label.classList.add("cl-quiz-option-answer");
          if (j === r.chosen && !r.correct) label.classList.add("cl-quiz-option-chosen");
        });
        var ex = el("div", "cl-quiz-explain");
        ex.appendChild(el("strong", null, r.correct ? "答对了。" : r.chosen === null ? "没有作答。正确答案：" + r.answer_text + "。"
          : "答错了。正确答案：" + r.answer_text + "。"));
        ex.appendChild(el("div", "cl-quiz-why", r.why));
        var src = el("a", null, "看出处");
        src.href = cl.base + r.url;
        ex.appendChild(src);
        box.appendChild(ex);
      });
      var summary = el("div", "cl-notice cl-quiz-score " + (g.passed ? "cl-notice-ok" : "cl-notice-weak"));
      summary.id = "cl-quiz-score";
      summary.appendChild(el("strong", null, "得分 " + pct(g.score) + "（" + g.total + " 题答对 " + g.correct + " 题）：" +
        (g.passed ? "通过！" : "还没通过，及格线是 " + pct(g.pass_mark) + "。")));
      summary.appendChild(el("div", null, (g.passed ? "" : "看看每题下面的解释，再做一次。") +
        (g.saved ? "成绩已记入你的学习进度。" : "成绩只保存在这台电脑的浏览器里。") +
        (g.correct < g.total ? "答错的题已记进页面下方的错题本。" : "")));
      form.parentNode.insertBefore(summary, form);
      var again = el("button", "md-button", "再做一次（换一组题）");
      again.type = "button";
      again.addEventListener("click", function () { takeQuiz(); window.scrollTo(0, 0); });
      bar.appendChild(again);
      summary.scrollIntoView({ block: "start" });
    }

    cl.ready.then(function () {
      renderWho();
      return cl.api("GET", "api/quiz");
    }).then(function (r) {
      if (!r.ok) { status.textContent = errorText(r); return; }
      modules = r.data.modules;
      var known = modules.some(function (m) { return m.id === module; });
      if (module && !known) { status.textContent = "没有测验“" + module + "”— 从下面的列表里选一个阶段。"; module = null; }
      return refresh().then(function () {
        if (module) takeQuiz();
        else status.textContent = "选一个阶段开始测验。";
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
