/* 案例页的“修订记录”：页面末尾有 <div class="cl-history" data-slug="…" hidden>（search/site/pages.py
   case_page 生成）。有服务器时（GET /api/cases/{slug}/history 有回答）才显示：每一版的时间、作者、
   审核人、摘要，点开看与上一版的差异；审核员及以上可以把案例恢复到旧的一版（生成待审核的草稿），
   培训员及以上有“修改这个案例”。站点当作文件打开、连不上服务器时保持隐藏，不提示。
   Everything from the API goes in with textContent (never innerHTML). */
(function () {
  "use strict";
  var box = document.querySelector(".md-content .cl-history[data-slug]");
  var cl = window.caselib;
  if (!box || !cl) return;
  var el = cl.el, when = cl.when, errorText = cl.errorText, diffView = cl.diffView;
  var slug = box.getAttribute("data-slug");
  if (!slug) return;
  var path = "api/cases/" + encodeURIComponent(slug) + "/history";

  Promise.all([cl.api("GET", path), cl.ready]).then(function (res) {
    var r = res[0];
    if (!r.ok || !r.data || !r.data.versions || !r.data.versions.length) return;  // no server: stay hidden
    render(r.data.versions);
  });

  function render(versions) {
    box.textContent = "";
    var h = el("h2", "cl-history-title", "修订记录");
    h.id = "cl-history";
    box.appendChild(h);
    if (cl.can("trainer")) {
      var tools = el("p", "cl-history-tools");
      var edit = el("a", "md-button cl-history-edit", "修改这个案例");
      edit.href = cl.base + "write/index.html?edit=" + encodeURIComponent(slug);
      tools.appendChild(edit);
      box.appendChild(tools);
    }
    box.appendChild(el("p", "cl-status", versions.length > 1
      ? "共 " + versions.length + " 版，最上面是现在的版本。点“看改动”查看这一版与上一版相比改了什么。"
      : "只有一版：发布以来没有改过。"));
    var list = el("ol", "cl-history-list");
    list.setAttribute("reversed", "");
    var newest = versions[0].number;
    versions.forEach(function (v) { list.appendChild(item(v, v.number === newest)); });
    box.appendChild(list);
    box.hidden = false;
  }

  function item(v, current) {
    var li = el("li", "cl-version");
    li.setAttribute("data-version", v.number);
    var head = el("div", "cl-version-head");
    head.appendChild(el("strong", "cl-version-number", "第 " + v.number + " 版" + (current ? "（现在的版本）" : "")));
    head.appendChild(el("span", "cl-version-meta", when(v.time) + " · 作者 " + (v.author || "—") + " · 审核 " + (v.approver || "—")));
    li.appendChild(head);
    if (v.summary) li.appendChild(el("div", "cl-version-summary", v.summary));
    if (v.reviews && v.reviews.length) {  // how this version got through review: submissions, rejections, approval
      var trail = el("ul", "cl-version-trail");
      trail.setAttribute("aria-label", "审核经过");
      v.reviews.forEach(function (x) {
        var row = el("li", "cl-trail-" + x.action, when(x.time) + " · " + (x.who || "—") + " · " + x.action_name +
          (x.comment ? "：" + x.comment : ""));
        trail.appendChild(row);
      });
      li.appendChild(trail);
    }

    var buttons = el("div", "cl-version-buttons");
    var label = v.number === 1 ? "看全文" : "看改动";
    var show = el("button", "cl-small-button cl-version-show", label);
    show.type = "button";
    show.setAttribute("aria-expanded", "false");
    buttons.appendChild(show);
    var restore = null;
    if (!current && cl.can("reviewer")) {
      restore = el("button", "cl-small-button cl-version-restore", "恢复到这一版");
      restore.type = "button";
      buttons.appendChild(restore);
    }
    li.appendChild(buttons);
    var result = el("div", "cl-version-result");
    result.setAttribute("role", "status");
    result.setAttribute("aria-live", "polite");
    li.appendChild(result);
    var detail = el("div", "cl-version-detail");
    detail.hidden = true;
    li.appendChild(detail);

    var loaded = false;
    show.addEventListener("click", function () {
      if (loaded) {
        detail.hidden = !detail.hidden;
        show.setAttribute("aria-expanded", String(!detail.hidden));
        show.textContent = detail.hidden ? label : "收起";
        return;
      }
      show.disabled = true;
      detail.hidden = false;
      detail.textContent = "正在加载…";
      cl.api("GET", path + "/" + v.number).then(function (r) {
        show.disabled = false;
        detail.textContent = "";
        if (!r.ok) { detail.appendChild(el("div", "cl-notice cl-notice-weak", errorText(r))); return; }
        loaded = true;
        show.textContent = "收起";
        show.setAttribute("aria-expanded", "true");
        var x = r.data;
        if (x.number === 1 || !x.diff) {
          detail.appendChild(el("p", "cl-version-first", x.number === 1 ? "最初的版本" : "与上一版相比内容没有变化。"));
          var full = el("details", "cl-version-text");
          full.appendChild(el("summary", null, "这一版的全文"));
          full.appendChild(el("pre", null, x.text || ""));
          detail.appendChild(full);
        } else {
          detail.appendChild(el("p", "cl-status", "与第 " + (x.number - 1) + " 版相比：红色“−”是删掉的行，绿色“+”是新加的行。"));
          detail.appendChild(diffView(x.diff));
        }
      });
    });

    if (restore) {
      restore.addEventListener("click", function () {
        restore.disabled = true;
        result.textContent = "正在生成草稿…";
        cl.api("POST", path.replace(/\/history$/, "/restore"), { version: v.number }).then(function (r) {
          result.textContent = "";
          if (!r.ok) {
            restore.disabled = false;
            result.appendChild(el("div", "cl-notice cl-notice-weak", errorText(r)));
            return;
          }
          var n = el("div", "cl-notice cl-notice-ok", "已生成待审核的草稿，由另一位审核员批准后生效。");
          n.appendChild(document.createTextNode(" "));
          var a = el("a", "cl-restore-link", "打开这份草稿（草稿 " + r.data.id + "）");
          a.href = cl.base + "review/index.html?draft=" + encodeURIComponent(r.data.id);
          n.appendChild(a);
          result.appendChild(n);
        });
      });
    }
    return li;
  }
})();
