/* 审核案例页：待审核的草稿列表（GET /api/drafts?status=in_review），打开一份（?draft=<id>，
   GET /api/drafts/{id}）看预览、检查结果、与已发布版本的差异，批准发布或退回修改。
   Everything from the API goes in with textContent; the only innerHTML is the draft's
   preview_html, which the server rendered and sanitised. */
(function () {
  "use strict";
  var el, when, errorText, diffView;  // window.caselib's shared helpers, set in start()
  var KIND = { "new": "新建", edit: "修改", restore: "恢复" };

  function notice(kind, text) { return el("div", "cl-notice cl-notice-" + kind, text); }

  function problemList(problems) {
    var ul = el("ul", "cl-problems");
    problems.forEach(function (p) {
      var li = el("li");
      var where = (p.line ? "第 " + p.line + " 行" : "") + (p.field ? (p.line ? " · " : "") + p.field : "");
      if (where) li.appendChild(el("strong", null, where + "："));
      li.appendChild(document.createTextNode(p.message || ""));
      if (p.fix) li.appendChild(el("div", "cl-problem-fix", "怎么改：" + p.fix));
      ul.appendChild(li);
    });
    return ul;
  }

  function start() {
    var root = document.getElementById("cl-review");
    if (!root || !window.caselib) return;
    var cl = window.caselib;
    el = cl.el; when = cl.when; errorText = cl.errorText; diffView = cl.diffView;
    var base = cl.base;
    var status = root.querySelector(".cl-status") || root.appendChild(el("p", "cl-status"));

    function gate() {
      if (cl.user) {
        if (cl.can("reviewer")) return true;
        root.textContent = "";
        root.appendChild(notice("weak", "你的账号是“" + (cl.ROLE_NAMES[cl.user.role] || cl.user.role) +
          "”，不能审核案例 — 审核需要“审核员”或“管理员”的角色，请联系管理员。"));
        return false;
      }
      cl.api("GET", "api/me").then(function (r) {
        root.textContent = "";
        if (r.status === 0) { root.appendChild(notice("offline", errorText(r))); return; }
        var n = notice("weak", "审核案例要先登录（审核员或管理员账号）。");
        n.appendChild(document.createTextNode(" "));
        var a = el("a", null, "去登录");
        a.href = base + "login.html?next=" + encodeURIComponent(location.pathname + location.search);
        n.appendChild(a);
        root.appendChild(n);
      });
      return false;
    }

    cl.ready.then(function () {
      if (!gate()) return;
      var id = new URLSearchParams(location.search).get("draft");
      if (id && /^\d+$/.test(id)) showDraft(id); else showQueue();
    });

    /* ------------------------------------------------------------ the queue */
    function showQueue() {
      status.textContent = "正在加载待审核的草稿…";
      cl.api("GET", "api/drafts?status=in_review").then(function (r) {
        root.textContent = "";
        if (!r.ok) { root.appendChild(notice("weak", errorText(r))); return; }
        var drafts = (r.data && r.data.drafts) || [];
        var head = el("div", "cl-review-head");
        head.appendChild(el("h2", null, "待审核（" + drafts.length + "）"));
        root.appendChild(head);
        if (!drafts.length) {
          root.appendChild(el("p", "cl-empty", "没有待审核的草稿。"));
          return;
        }
        var table = el("table", "cl-table cl-review-queue");
        var tr = el("tr");
        ["标题", "作者", "类型", "提交时间"].forEach(function (h) { tr.appendChild(el("th", null, h)); });
        table.appendChild(el("thead")).appendChild(tr);
        var body = table.appendChild(el("tbody"));
        drafts.forEach(function (d) {
          var row = el("tr");
          var t = el("td");
          var a = el("a", "cl-review-open", d.title || "（没有标题）");
          a.href = "?draft=" + encodeURIComponent(d.id);
          t.appendChild(a);
          if (d.slug) t.appendChild(el("div", "cl-slug", d.slug + (d.note ? " · " + d.note : "")));
          row.appendChild(t);
          var who = el("td", null, d.author_name || d.author);
          if (cl.user && d.author === cl.user.username) who.appendChild(el("div", "cl-slug", "（你写的：请另一位审核员审核）"));
          row.appendChild(who);
          row.appendChild(el("td", null, KIND[d.kind] || d.kind));
          row.appendChild(el("td", null, when(d.submitted_at || d.updated_at)));
          body.appendChild(row);
        });
        root.appendChild(table);
      });
    }

    /* ------------------------------------------------------------ one draft */
    function showDraft(id) {
      status.textContent = "正在打开草稿 " + id + "…";
      cl.api("GET", "api/drafts/" + id).then(function (r) {
        root.textContent = "";
        var back = el("a", "cl-back", "← 返回待审核列表");
        back.href = location.pathname;
        root.appendChild(el("p")).appendChild(back);
        if (!r.ok) { root.appendChild(notice("weak", errorText(r))); return; }
        render(r.data);
      });
    }

    function render(d) {
      var box = el("div", "cl-review-draft");
      box.setAttribute("data-draft", d.id);
      box.appendChild(el("h2", "cl-review-title", d.title || "（没有标题）"));
      var meta = el("p", "cl-review-meta");
      var parts = ["草稿 " + d.id, (KIND[d.kind] || d.kind) + (d.kind === "new" ? "案例" : ""),
        "作者 " + (d.author_name || d.author), "提交于 " + when(d.submitted_at), "状态 " + (d.status_name || d.status)];
      if (d.slug) parts.push("cases/" + d.slug + ".md");
      meta.textContent = parts.join(" · ");
      box.appendChild(meta);
      if (d.note) box.appendChild(el("p", "cl-review-note", "说明：" + d.note));
      if (d.comment && d.status !== "published") box.appendChild(el("p", "cl-review-note", "上次退回的意见：" + d.comment));

      /* check results */
      box.appendChild(el("h3", null, "检查结果"));
      var problems = d.problems || [];
      if (!problems.length) box.appendChild(notice("ok cl-checks", "检查通过"));
      else {
        var n = notice("weak cl-checks", "检查发现 " + problems.length + " 个问题，批准前要先退回让作者改：");
        n.appendChild(problemList(problems));
        box.appendChild(n);
      }

      /* diff against the published text */
      if (d.kind !== "new") {
        box.appendChild(el("h3", null, "与已发布版本的差异"));
        if (d.diff) {
          box.appendChild(el("p", "cl-status", "红色“−”是删掉的行，绿色“+”是新加的行（一段文字改了一个字，整段都会标出来）。"));
          box.appendChild(diffView(d.diff));
        } else if (d.diff === "") box.appendChild(el("p", "cl-empty", "内容与已发布的版本相同。"));
        else box.appendChild(el("p", "cl-empty", "找不到已发布的版本（案例文件可能已被删除）。"));
      }

      /* actions: above the long preview so the reviewer does not have to scroll for them */
      var actions = el("div", "cl-review-actions");
      var result = el("div", "cl-review-result");
      result.setAttribute("role", "status");
      result.setAttribute("aria-live", "polite");
      if (d.status === "in_review") {
        var label = el("label", "cl-review-comment-label", "审核意见（退回时必填，写明哪里要改；批准时可不填）");
        var comment = el("textarea", "cl-review-comment");
        comment.id = "cl-review-comment";
        comment.rows = 3;
        comment.placeholder = "例如：经过里缺少回访时间，请补上";
        label.appendChild(comment);
        actions.appendChild(label);
        var buttons = el("div", "cl-review-buttons");
        var approve = el("button", "md-button md-button--primary cl-approve", "批准发布");
        approve.type = "button";
        var reject = el("button", "md-button cl-reject", "退回修改");
        reject.type = "button";
        buttons.appendChild(approve);
        buttons.appendChild(reject);
        actions.appendChild(buttons);
        if (cl.user && d.author === cl.user.username) {
          actions.appendChild(el("p", "cl-status", "这是你写的草稿：通常要由另一位审核员审核。"));
        }
        var busy = function (on) { approve.disabled = reject.disabled = comment.disabled = on; };
        var fail = function (r) {
          busy(false);
          result.textContent = "";
          var n = notice("weak cl-review-error", errorText(r));
          var ps = r.data && r.data.error && r.data.error.problems;
          if (ps && ps.length) n.appendChild(problemList(ps));
          result.appendChild(n);
        };
        approve.addEventListener("click", function () {
          busy(true);
          result.textContent = "正在发布…";
          cl.api("POST", "api/drafts/" + d.id + "/approve", { comment: comment.value.trim() }).then(function (r) {
            if (!r.ok) return fail(r);
            actions.hidden = true;
            result.textContent = "";
            var slug = (r.data && r.data.slug) || d.slug;
            var n = notice("ok cl-review-done", "已发布，约 10 秒后可检索。");
            var p = el("p", null, "案例页：");
            var a = el("a", "cl-case-link", "cases/" + slug + ".html");
            a.href = base + "cases/" + encodeURIComponent(slug) + ".html";
            p.appendChild(a);
            p.appendChild(document.createTextNode("（服务器重新生成站点后才有这个页面，最多约 30 秒；打不开就稍等再刷新）"));
            n.appendChild(p);
            result.appendChild(n);
            result.appendChild(nextLink());
          });
        });
        reject.addEventListener("click", function () {
          var text = comment.value.trim();
          if (!text) {
            result.textContent = "";
            result.appendChild(notice("weak cl-review-error", "退回时要写明哪里需要改 — 在上面的“审核意见”里写，例如“经过里缺少回访时间，请补上”。"));
            comment.focus();
            return;
          }
          busy(true);
          result.textContent = "正在退回…";
          cl.api("POST", "api/drafts/" + d.id + "/reject", { comment: text }).then(function (r) {
            if (!r.ok) return fail(r);
            actions.hidden = true;
            result.textContent = "";
            result.appendChild(notice("ok cl-review-done", "已退回给" + (d.author_name || d.author) + "修改，意见已附在草稿上。"));
            result.appendChild(nextLink());
          });
        });
      } else {
        actions.appendChild(notice("weak", "这份草稿现在是“" + (d.status_name || d.status) + "”，不在待审核状态，不能批准或退回。"));
      }
      box.appendChild(el("h3", null, "审核"));
      box.appendChild(actions);
      box.appendChild(result);

      /* the case as the site will show it */
      box.appendChild(el("h3", null, "预览（站点上的样子）"));
      var preview = el("div", "cl-review-preview");
      preview.innerHTML = d.preview_html || "";  // server-rendered and sanitised (search/site/preview.py)
      box.appendChild(preview);
      root.appendChild(box);
    }

    function nextLink() {
      var p = el("p");
      var a = el("a", null, "返回待审核列表，审核下一份");
      a.href = location.pathname;
      p.appendChild(a);
      return p;
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
