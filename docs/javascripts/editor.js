/* 编写案例（/write/）：草稿列表、从 Word 导入、修改已发布的案例，和一份草稿的编辑器。
   The draft's text is the one truth. The form is generated from GET /api/schema; a change in
   the form composes the text (only the fields the trainer touched are rewritten, as
   `key: <JSON>` lines in the schema's key order; untouched parts stay byte for byte), and
   text → form uses the "parsed" part of POST /api/validate. Live checks (validate + preview)
   ~400 ms after typing stops, autosave (PUT) ~1.5 s after, on visibilitychange/pagehide with
   keepalive, plus a localStorage copy per draft (caselib-draft-<id>) on every change.
   Everything from the API or the user goes in with textContent; the only innerHTML is the
   server-sanitised html of POST /api/preview and GET /api/drafts/{id}'s preview_html. */
(function () {
  "use strict";
  /* The page's own script runs before the site-wide caselib-auth.js (extra_javascript comes
     at the end of <body>): start once the document has been parsed. */
  if (!window.caselib && document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", main);
  } else main();

  function main() {
  var root = document.getElementById("cl-editor");
  var cl = window.caselib;
  if (!root || !cl) return;

  var CHECK_DELAY = 400, SAVE_DELAY = 1500, RETRY_DELAY = 5000;
  var AGENT = "接听要点";
  var auth = null;       // caselib's state (its csrf, for the keepalive save)
  var schema = null;
  var ed = null;         // the open editor, or null on the list page

  /* ---------- small helpers ---------- */
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function add(parent) {
    for (var i = 1; i < arguments.length; i++) if (arguments[i]) parent.appendChild(arguments[i]);
    return parent;
  }
  function button(text, cls, onclick) {
    var b = el("button", cls || "md-button", text);
    b.type = "button";
    if (onclick) b.addEventListener("click", onclick);
    return b;
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function when(iso) {
    var d = new Date(iso);
    if (!iso || isNaN(d.getTime())) return iso || "—";
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }
  function clock(d) { return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()); }
  function errorText(r) {
    if (r.data && r.data.error && r.data.error.message) return r.data.error.message;
    return "出错了（HTTP " + r.status + "）— 刷新页面再试一次";
  }
  function pagePath() { return location.pathname; }
  function loginHref() { return cl.base + "login.html?next=" + encodeURIComponent(location.pathname + location.search); }
  function navigate(query, replace) {
    var url = pagePath() + (query ? "?" + query : "");
    if (replace) history.replaceState(null, "", url); else history.pushState(null, "", url);
    route();
  }
  function draftHref(id) { return pagePath() + "?draft=" + id; }
  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }
  function autoGrow(area) {
    if (!area.offsetParent) return;  // hidden (the other tab): measured again when shown
    var y = window.scrollY;
    area.style.height = "auto";
    area.style.height = (area.scrollHeight + 2) + "px";
    window.scrollTo(window.scrollX, y);
  }
  function signInLink() {
    var a = el("a", "md-button md-button--primary cl-ed-login", "登录");
    a.href = loginHref();
    return a;
  }
  function notice(kind, text) { return el("div", "cl-notice cl-notice-" + kind, text); }

  /* ---------- the text: front matter blocks and body chunks ---------- */
  var KEY_RE = /^([A-Za-z_][A-Za-z0-9_]*)\s*:/;

  /* Mirrors parse_parts (search/authoring/validate.py): front matter between the first
     "---" line and the next "\n---"; sections are "## " lines outside code fences. */
  function split(text) {
    text = text.replace(/\r\n/g, "\n");
    var out = { hasFront: false, pre: [], blocks: {}, order: [], closing: "", body: text, chunks: [] };
    var body = text;
    if (text.indexOf("---\n") === 0) {
      var end = text.indexOf("\n---", 3);
      if (end !== -1) {
        out.hasFront = true;
        var nl = text.indexOf("\n", end + 4);
        out.closing = text.slice(end + 1, nl === -1 ? text.length : nl + 1);
        body = nl === -1 ? "" : text.slice(nl + 1);
        var current = null;
        text.slice(4, end).split("\n").forEach(function (line) {
          var m = KEY_RE.exec(line);
          if (m && !out.blocks.hasOwnProperty(m[1])) {
            current = m[1];
            out.blocks[current] = [];
            out.order.push(current);
          }
          (current ? out.blocks[current] : out.pre).push(line);
        });
      }
    }
    out.body = body;
    var chunk = { name: null, lines: [] }, fence = false;
    out.chunks.push(chunk);
    body.split("\n").forEach(function (line) {
      var t = line.replace(/^\s+/, "");
      if (t.indexOf("```") === 0 || t.indexOf("~~~") === 0) fence = !fence;
      if (!fence && line.indexOf("## ") === 0) {
        chunk = { name: line.slice(3).trim(), lines: [line] };
        out.chunks.push(chunk);
      } else chunk.lines.push(line);
    });
    return out;
  }

  function yamlLine(key, value) {
    if (value === null || value === undefined || value === "") return key + ":";
    if (Array.isArray(value)) return key + ": [" + value.map(function (v) { return JSON.stringify(v); }).join(", ") + "]";
    return key + ": " + JSON.stringify(value);
  }

  /* ---------- entry ---------- */
  function start() {
    Promise.all([cl.ready, cl.api("GET", "api/schema")]).then(function (res) {
      auth = res[0];
      var r = res[1];
      if (r.status === 0) { show(notice("offline", errorText(r))); return; }
      if (!r.ok) { show(notice("weak", "读不到案例表单的结构：" + errorText(r))); return; }
      schema = r.data;
      window.addEventListener("popstate", route);
      window.addEventListener("pagehide", function () { if (ed) ed.flush(true); });
      document.addEventListener("visibilitychange", function () {
        if (document.visibilityState === "hidden" && ed) ed.flush(true);
      });
      route();
    });
  }

  function show() {
    root.textContent = "";
    for (var i = 0; i < arguments.length; i++) if (arguments[i]) root.appendChild(arguments[i]);
  }

  function route() {
    openSeq++;
    if (ed) { ed.close(); ed = null; }
    if (!cl.user) {
      var box = notice("weak", "编写案例需要先登录培训员（或审核员、管理员）账号。");
      box.classList.add("cl-ed-signin");
      add(box, el("br"), signInLink());
      show(box);
      return;
    }
    if (!cl.can("trainer")) {
      show(notice("weak", "你现在登录的是" + (cl.ROLE_NAMES[cl.user.role] || cl.user.role) + "账号（" + cl.user.display_name +
        "）。编写案例需要“培训员”或更高的角色 — 请联系管理员开通；坐席可以用“坐席检索”查找已发布的案例。"));
      return;
    }
    var p = new URLSearchParams(location.search);
    if (p.get("draft")) openDraft(parseInt(p.get("draft"), 10));
    else if (p.get("edit")) editPublished(p.get("edit"), null, true);
    else renderList();
  }

  /* ---------- the drafts list ---------- */
  var listStatus = null;

  function setListStatus(text, isError) {
    if (!listStatus) return;
    listStatus.textContent = text || "";
    listStatus.className = "cl-status" + (isError ? " cl-ed-error" : "");
  }

  function renderList(message) {
    var wrap = el("div", "cl-ed-list");
    var tools = el("div", "cl-ed-tools");
    var neu = button("新建案例", "md-button md-button--primary", function () {
      neu.disabled = true;
      setListStatus("正在新建草稿…");
      cl.api("POST", "api/drafts", {}).then(function (r) {
        neu.disabled = false;
        if (r.ok) navigate("draft=" + r.data.id);
        else setListStatus(errorText(r), true);
      });
    });
    var imp = el("label", "md-button cl-ed-import");
    var file = el("input", "cl-ed-file");
    file.type = "file";
    file.id = "cl-ed-import-file";
    file.accept = ".docx,application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    add(imp, el("span", null, "从 Word 导入"), file);
    file.addEventListener("change", function () { if (file.files && file.files[0]) importWord(file.files[0], file); });
    var form = el("form", "cl-ed-editform");
    var lab = el("label", null, "修改已发布的案例：");
    var slugIn = el("input");
    slugIn.id = "cl-ed-edit-slug";
    slugIn.placeholder = "案例的 slug 或网址，如 garage-flooding";
    slugIn.setAttribute("aria-label", "要修改的已发布案例（slug 或案例网址）");
    lab.htmlFor = slugIn.id;
    var go = el("button", "md-button", "打开");
    go.type = "submit";
    add(form, lab, slugIn, go);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var v = slugIn.value.trim();
      var m = /cases\/([^\/?#]+?)(?:\.html|\.md)?(?:[?#].*)?$/.exec(v);
      if (m) v = m[1];
      if (!v) { setListStatus("先填上要修改的案例的 slug（案例网址里 cases/ 后面那一段，不含 .html）", true); slugIn.focus(); return; }
      editPublished(v, go, false);
    });
    add(tools, neu, imp, form);
    listStatus = el("p", "cl-status");
    listStatus.setAttribute("role", "status");
    listStatus.setAttribute("aria-live", "polite");
    var mine = el("section", "cl-ed-drafts-mine"), others = el("section", "cl-ed-drafts-others");
    add(wrap, tools, listStatus, mine, others);
    show(wrap);
    if (message) setListStatus(message, true);
    mine.appendChild(el("p", "cl-status", "正在读取草稿…"));
    cl.api("GET", "api/drafts").then(function (r) {
      mine.textContent = "";
      if (!r.ok) { setListStatus(errorText(r), true); return; }
      var me = cl.user.username;
      var my = r.data.drafts.filter(function (d) { return d.author === me; });
      var rest = r.data.drafts.filter(function (d) { return d.author !== me; });
      draftList(mine, "我的草稿", my, "你还没有未完成的草稿。点“新建案例”开始写，或者把 Word 报告导入进来。");
      draftList(others, "其他人的草稿", rest, "其他培训员现在没有未完成的草稿。");
    });
  }

  function draftList(box, title, drafts, empty) {
    box.appendChild(el("h2", null, title + "（" + drafts.length + "）"));
    if (!drafts.length) { box.appendChild(el("p", "cl-status", empty)); return; }
    var ul = el("ul", "cl-ed-drafts");
    drafts.forEach(function (d) {
      var li = el("li", "cl-ed-draft cl-ed-draft-" + d.status);
      li.setAttribute("data-draft-id", d.id);
      var head = el("div", "cl-ed-draft-head");
      head.appendChild(el("span", "cl-badge cl-ed-st cl-ed-st-" + d.status, d.status_name));
      var a = el("a", "cl-ed-draft-title", d.title || "（没有标题）");
      a.href = draftHref(d.id);
      a.addEventListener("click", function (ev) {
        if (ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return;
        ev.preventDefault();
        navigate("draft=" + d.id);
      });
      head.appendChild(a);
      li.appendChild(head);
      var kind = d.kind === "edit" ? "修改已发布的案例 " + d.slug : d.kind === "restore" ? "恢复旧版本 " + d.slug : "新案例";
      li.appendChild(el("div", "cl-ed-draft-meta", "作者 " + d.author_name + " · 更新于 " + when(d.updated_at) +
        " · " + kind + " · 草稿 " + d.id + "，第 " + d.version + " 版"));
      if (d.comment && d.status === "draft") li.appendChild(rejection(d));
      ul.appendChild(li);
    });
    box.appendChild(ul);
  }

  function rejection(d) {
    var box = el("div", "cl-ed-rejected");
    box.setAttribute("role", "note");
    box.appendChild(el("strong", null, "退回意见" + (d.reviewer ? "（审核员 " + d.reviewer + "）" : "") + "："));
    box.appendChild(el("span", "cl-ed-rejected-text", d.comment));
    return box;
  }

  function importWord(f, input) {
    if (!/\.docx$/i.test(f.name)) {
      setListStatus("“" + f.name + "”不是 .docx 文件 — 在 Word 里“另存为”→“Word 文档 (*.docx)”后再导入", true);
      input.value = "";
      return;
    }
    setListStatus("正在导入“" + f.name + "”…");
    var reader = new FileReader();
    reader.onload = function () {
      cl.api("POST", "api/import?filename=" + encodeURIComponent(f.name), reader.result, true).then(function (r) {
        input.value = "";
        if (!r.ok) { setListStatus("导入失败：" + errorText(r), true); return; }
        history.pushState(null, "", draftHref(r.data.id));
        if (ed) { ed.close(); ed = null; }
        openDraft(r.data.id, { notes: r.data.notes || [], file: f.name });
      });
    };
    reader.onerror = function () { setListStatus("读不出文件“" + f.name + "”", true); };
    reader.readAsArrayBuffer(f);
  }

  function editPublished(slug, btn, fromUrl) {
    if (btn) btn.disabled = true;
    if (fromUrl) show(el("p", "cl-status", "正在打开案例“" + slug + "”…"));
    cl.api("POST", "api/drafts", { slug: slug }).then(function (r) {
      if (btn) btn.disabled = false;
      if (r.ok) { navigate("draft=" + r.data.id, fromUrl); return; }
      if (fromUrl) { history.replaceState(null, "", pagePath()); renderList(errorText(r)); }
      else setListStatus(errorText(r), true);
    });
  }

  /* ---------- one draft ---------- */
  var openSeq = 0;
  function openDraft(id, extra) {
    var seq = ++openSeq;
    show(el("p", "cl-status", "正在打开草稿 " + id + "…"));
    if (!id) { renderList("草稿编号不对"); return; }
    cl.api("GET", "api/drafts/" + id).then(function (r) {
      if (seq !== openSeq) return;  // another draft (or the list) was opened meanwhile
      if (!r.ok) {
        if (r.status === 401) { show(notice("weak", "登录已过期。"), signInLink()); return; }
        var back = el("a", "md-button", "回到草稿列表");
        back.href = pagePath();
        show(notice("weak", errorText(r)), back);
        return;
      }
      if (ed) ed.close();
      ed = new Editor(r.data, extra || {});
    });
  }

  function Editor(draft, extra) {
    var self = this;
    var d = draft;
    var S = {
      text: d.text.replace(/\r\n/g, "\n"),
      saved: d.text.replace(/\r\n/g, "\n"),
      version: d.version,
      base: null,          // split() of the text the form was last filled from
      formText: null,      // the text the form shows
      touched: {},         // form fields changed since the form was filled
      problems: [], problemsText: null,
      mode: "form", readOnly: false, conflict: null,
      saving: false, saveAgain: false, closed: false,
      checkSeq: 0, checkTimer: null, saveTimer: null, retryTimer: null,
      parsedMeta: null
    };
    var fields = {};  // data-field name → {box, slot, focus()}
    var controls = {}; // front-matter key → control helpers
    var sectionAreas = {};
    var agentCtl = null;

    /* layout */
    var wrap = el("div", "cl-ed");
    var bar = el("div", "cl-ed-bar");
    var back = el("a", "cl-ed-back", "← 草稿列表");
    back.href = pagePath();
    back.addEventListener("click", function (ev) {
      if (ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return;
      ev.preventDefault();
      navigate("");
    });
    var badge = el("span", "cl-badge cl-ed-st");
    badge.id = "cl-ed-status";
    var kind = el("span", "cl-ed-kind");
    var saveState = el("span", "cl-ed-save");
    saveState.id = "cl-ed-save";
    saveState.setAttribute("role", "status");
    saveState.setAttribute("aria-live", "polite");
    var submitBtn = button("提交审核", "md-button md-button--primary cl-ed-submit", function () { submit(); });
    submitBtn.id = "cl-ed-submit";
    var withdrawBtn = button("撤回", "md-button cl-ed-withdraw", function () { withdraw(); });
    withdrawBtn.id = "cl-ed-withdraw";
    var barChecks = button("", "cl-ed-bar-checks", function () {
      checks.scrollIntoView({ block: "start" });
      var first = problemList.querySelector("button");
      if (first) first.focus();
    });
    barChecks.id = "cl-ed-bar-checks";
    add(bar, back, badge, kind, saveState, el("span", "cl-ed-spacer"), barChecks, submitBtn, withdrawBtn);

    var notices = el("div", "cl-ed-notices");
    var main = el("div", "cl-ed-main");
    var left = el("div", "cl-ed-left");
    var right = el("div", "cl-ed-right");
    var tabs = el("div", "cl-ed-tabs");
    tabs.setAttribute("role", "tablist");
    tabs.setAttribute("aria-label", "写法");
    var tabForm = button("表单", "cl-ed-tab", function () { setMode("form"); });
    var tabText = button("Markdown 文本", "cl-ed-tab", function () { setMode("text"); });
    tabForm.id = "cl-ed-tab-form";
    tabText.id = "cl-ed-tab-text";
    [tabForm, tabText].forEach(function (t) { t.setAttribute("role", "tab"); });
    tabs.addEventListener("keydown", function (ev) {
      if (ev.key === "ArrowRight" || ev.key === "ArrowLeft") {
        setMode(S.mode === "form" ? "text" : "form");
        (S.mode === "form" ? tabForm : tabText).focus();
      }
    });
    add(tabs, tabForm, tabText);

    var formPanel = el("div", "cl-ed-panel cl-ed-form");
    formPanel.id = "cl-ed-form";
    formPanel.setAttribute("role", "tabpanel");
    formPanel.setAttribute("aria-labelledby", tabForm.id);
    var formNotice = el("div", "cl-ed-form-notice");
    var fset = el("fieldset", "cl-ed-fieldset");
    add(formPanel, formNotice, fset);
    fset.addEventListener("input", onFormInput);
    fset.addEventListener("change", onFormInput);

    var textPanel = el("div", "cl-ed-panel cl-ed-textview");
    textPanel.id = "cl-ed-text";
    textPanel.setAttribute("role", "tabpanel");
    textPanel.setAttribute("aria-labelledby", tabText.id);
    textPanel.appendChild(el("p", "cl-ed-help", "整份案例的 Markdown 文本（和表单是同一份内容）：开头 --- 之间是字段，后面是“## 经过”等章节。有问题的行标成红色。"));
    var md = marked("cl-ed-md-area cl-ed-mono", "案例的 Markdown 文本");
    md.area.id = "cl-ed-md";
    md.area.spellcheck = false;
    textPanel.appendChild(md.wrap);
    md.area.addEventListener("input", function () {
      if (S.readOnly) return;
      setText(md.area.value, "text");
    });
    add(left, tabs, formPanel, textPanel);

    var checks = el("section", "cl-ed-checks");
    checks.setAttribute("aria-labelledby", "cl-ed-checks-h");
    var checksH = el("h2", "cl-ed-h", "检查结果");
    checksH.id = "cl-ed-checks-h";
    var checkStatus = el("p", "cl-ed-check-status");
    checkStatus.id = "cl-ed-check-status";
    checkStatus.setAttribute("role", "status");
    checkStatus.setAttribute("aria-live", "polite");
    var problemList = el("ol", "cl-ed-problems");
    problemList.id = "cl-ed-problems";
    add(checks, checksH, checkStatus, problemList);
    var prevBox = el("section", "cl-ed-preview-box");
    prevBox.setAttribute("aria-labelledby", "cl-ed-preview-h");
    var prevH = el("h2", "cl-ed-h", "预览（发布后的样子）");
    prevH.id = "cl-ed-preview-h";
    var preview = el("div", "cl-ed-preview");
    preview.id = "cl-ed-preview";
    add(prevBox, prevH, preview);
    add(right, checks, prevBox);
    add(main, left, right);
    add(wrap, bar, notices, main);
    show(wrap);

    buildForm();
    if (d.preview_html) preview.innerHTML = d.preview_html;  // sanitised by the server
    setMode("form");
    md.area.value = S.text;
    md.render([], []);
    autoGrow(md.area);
    rebase(S.text);
    setFormStale(true);
    applyStatus();
    saveState.textContent = "已保存 " + clock(new Date(d.updated_at));
    if (d.problems) renderProblems(d.problems, S.text, true);
    offerRecovery();

    /* ---------- a textarea with marks behind it (problem lines, personal data) ---------- */
    function marked(cls, label) {
      var w = el("div", "cl-ed-markwrap");
      var backdrop = el("div", "cl-ed-backdrop " + cls);
      backdrop.setAttribute("aria-hidden", "true");
      var area = el("textarea", "cl-ed-area " + cls);
      area.rows = 3;
      if (label) area.setAttribute("aria-label", label);
      add(w, backdrop, area);
      var api = {
        wrap: w, area: area, backdrop: backdrop,
        /* badLines: 0-based line numbers; ranges: [start, end) offsets into area.value */
        render: function (badLines, ranges) {
          backdrop.textContent = "";
          var value = area.value, offset = 0;
          value.split("\n").forEach(function (line, i) {
            var div = el("div", "cl-ed-bline" + (badLines.indexOf(i) !== -1 ? " cl-ed-bline-bad" : ""));
            var pos = 0, lineEnd = offset + line.length;
            ranges.filter(function (r) { return r[0] < lineEnd && r[1] > offset; })
              .sort(function (a, b) { return a[0] - b[0]; })
              .forEach(function (r) {
                var s = Math.max(r[0], offset) - offset, e = Math.min(r[1], lineEnd) - offset;
                if (s < pos) return;
                if (s > pos) div.appendChild(document.createTextNode(line.slice(pos, s)));
                div.appendChild(el("mark", "cl-ed-pd", line.slice(s, e)));
                pos = e;
              });
            div.appendChild(document.createTextNode(pos < line.length ? line.slice(pos) : (line.length ? "" : "\u200b")));
            backdrop.appendChild(div);
            offset = lineEnd + 1;
          });
        },
        lineTop: function (i) { var c = backdrop.children[i]; return c ? c.getBoundingClientRect().top : null; }
      };
      area.addEventListener("input", function () { autoGrow(area); api.render([], []); });
      return api;
    }

    /* ---------- the form ---------- */
    function fieldBox(name, labelText, forId, help, tag) {
      var box = el(tag || "div", "cl-ed-field");
      box.setAttribute("data-field", name);
      var label;
      if (tag === "fieldset") label = el("legend", "cl-ed-label", labelText);
      else { label = el("label", "cl-ed-label", labelText); if (forId) label.htmlFor = forId; }
      box.appendChild(label);
      if (help) {
        var h = el("p", "cl-ed-help", help);
        if (forId) h.id = forId + "-help";
        box.appendChild(h);
      }
      var slot = el("div", "cl-ed-slot");
      fields[name] = { box: box, slot: slot, label: labelText, focus: null };
      return box;
    }
    function finish(name, box) {
      box.appendChild(fields[name].slot);
      return box;
    }
    function describe(ctl, id) { ctl.setAttribute("aria-describedby", id + "-help"); }

    function buildForm() {
      fset.textContent = "";
      var legend = el("legend", "cl-ed-visually-hidden", "案例表单");
      fset.appendChild(legend);
      var head = el("div", "cl-ed-group");
      head.appendChild(el("h2", "cl-ed-h", "基本信息"));
      /* slug: the file name (new cases may set it; an edit keeps it) */
      var sid = "cl-ed-f-slug";
      var sbox = fieldBox("slug", "文件名（slug）", sid, d.kind === "new"
        ? "发布后的文件 cases/<slug>.md 和网址；只用小写英文字母、数字和连字符。可以不填，提交时按标题自动生成。"
        : "修改的是已发布的 cases/" + d.slug + ".md，文件名不能改。");
      var sin = el("input", "cl-ed-input");
      sin.id = sid;
      sin.value = d.slug || "";
      sin.placeholder = "如 garage-flooding";
      sin.readOnly = d.kind !== "new";
      sin.setAttribute("data-slug", "1");
      describe(sin, sid);
      sbox.appendChild(sin);
      fields.slug.focus = function () { sin.focus(); };
      head.appendChild(finish("slug", sbox));
      sin.addEventListener("input", function (ev) { ev.stopPropagation(); S.slugDirty = true; scheduleCheck(); scheduleSave(); });
      controls.__slug = sin;

      var meta = el("div", "cl-ed-group");
      meta.appendChild(el("h2", "cl-ed-h", "分类"));
      var lists = el("div", "cl-ed-group");
      lists.appendChild(el("h2", "cl-ed-h", "原则、禁语和标签"));
      var stamps = el("div", "cl-ed-group cl-ed-stamps");
      stamps.appendChild(el("h2", "cl-ed-h", "审核记录"));
      schema.fields.forEach(function (f) {
        var target = f.kind === "select" ? meta : (f.kind === "checkboxes" || f.kind === "list") ? lists : head;
        if (f.auto && f.name !== "id") target = stamps;
        target.appendChild(buildField(f));
      });
      add(fset, head, meta, lists);

      var secs = el("div", "cl-ed-group");
      secs.appendChild(el("h2", "cl-ed-h", "正文"));
      schema.sections.forEach(function (s) {
        if (s.name === AGENT) { secs.appendChild(buildAgent()); return; }
        var id = "cl-ed-s-" + s.name;
        var box = fieldBox(s.name, "## " + s.name, id, s.hint);
        var m = marked("cl-ed-sec", null);
        m.area.id = id;
        m.area.rows = 4;
        m.area.setAttribute("data-section", s.name);
        describe(m.area, id);
        box.appendChild(m.wrap);
        sectionAreas[s.name] = m;
        fields[s.name].focus = function (p) { focusArea(m.area, p); };
        secs.appendChild(finish(s.name, box));
      });
      add(fset, secs, stamps);
    }

    function buildField(f) {
      var id = "cl-ed-f-" + f.name;
      var label = f.label + (f.required || f.auto ? "" : "（可不填）");
      var help = f.help;
      if (f.max_length) help += "（" + (f.min_length || 0) + "–" + f.max_length + " 个字）";
      if (f.auto) help += "（系统填写，不能改）";
      var box, ctl = { kind: f.kind, field: f };
      if (f.kind === "checkboxes") {
        box = fieldBox(f.name, label, null, help, "fieldset");
        var grid = el("div", "cl-ed-checks-grid");
        ctl.boxes = [];
        f.options.forEach(function (o, i) {
          var row = el("label", "cl-ed-check");
          var cb = el("input");
          cb.type = "checkbox";
          cb.value = String(o.value);
          cb.id = id + "-" + i;
          cb.setAttribute("data-key", f.name);
          ctl.boxes.push({ input: cb, value: o.value });
          var text = el("span", "cl-ed-check-text");
          add(text, el("span", "cl-ed-check-label", o.label), o.hint ? el("span", "cl-ed-check-hint", o.hint) : null);
          add(row, cb, text);
          grid.appendChild(row);
        });
        ctl.extra = el("p", "cl-ed-help cl-ed-extra");
        add(box, grid, ctl.extra);
        ctl.get = function () {
          return ctl.boxes.filter(function (b) { return b.input.checked; }).map(function (b) { return b.value; });
        };
        ctl.set = function (v) {
          var vals = Array.isArray(v) ? v.map(String) : [];
          ctl.boxes.forEach(function (b) { b.input.checked = vals.indexOf(String(b.value)) !== -1; });
          var unknown = vals.filter(function (x) { return !ctl.boxes.some(function (b) { return String(b.value) === x; }); });
          ctl.extra.textContent = unknown.length ? "文本里还有不在列表中的值：" + unknown.join("、") + "（勾选后会去掉，可在「Markdown 文本」里查看）" : "";
          if (v !== null && v !== undefined && !Array.isArray(v)) ctl.extra.textContent = "文本里的值不是列表：" + JSON.stringify(v);
        };
        fields[f.name].focus = function () { ctl.boxes[0].input.focus(); };
      } else if (f.kind === "select") {
        box = fieldBox(f.name, label, id, help);
        var sel = el("select", "cl-ed-select");
        sel.id = id;
        sel.setAttribute("data-key", f.name);
        describe(sel, id);
        var blank = el("option", null, f.required ? "（请选择）" : "（无）");
        blank.value = "";
        sel.appendChild(blank);
        f.options.forEach(function (o) {
          var op = el("option", null, o.label);
          op.value = String(o.value);
          if (o.hint) op.title = o.hint;
          sel.appendChild(op);
        });
        var hint = el("p", "cl-ed-hint");
        hint.setAttribute("aria-live", "polite");
        add(box, sel, hint);
        var withHints = f.options.filter(function (o) { return o.hint; });
        if (withHints.length) {
          var det = el("details", "cl-ed-options");
          det.appendChild(el("summary", null, "各选项的含义"));
          var dl = el("dl");
          withHints.forEach(function (o) { add(dl, el("dt", null, o.label), el("dd", null, o.hint)); });
          det.appendChild(dl);
          box.appendChild(det);
        }
        var showHint = function () {
          var o = f.options.filter(function (x) { return String(x.value) === sel.value; })[0];
          hint.textContent = o && o.hint ? o.label + "：" + o.hint : "";
        };
        sel.addEventListener("change", showHint);
        ctl.get = function () { return sel.value === "" ? null : sel.value; };
        ctl.set = function (v) {
          Array.prototype.slice.call(sel.querySelectorAll("option.cl-ed-other")).forEach(function (o) { o.remove(); });
          var s = v === null || v === undefined ? "" : (typeof v === "object" ? JSON.stringify(v) : String(v));
          if (s && !f.options.some(function (o) { return String(o.value) === s; })) {
            var other = el("option", "cl-ed-other", s + "（不在可选范围内）");
            other.value = s;
            sel.appendChild(other);
          }
          sel.value = s;
          showHint();
        };
        fields[f.name].focus = function () { sel.focus(); };
      } else if (f.name === "tags") {
        box = fieldBox(f.name, label, id, help + "：输入后按回车或逗号添加，点 × 删除");
        var tagbox = el("div", "cl-ed-tags");
        var chips = el("span", "cl-ed-chips");
        var tin = el("input", "cl-ed-tag-input");
        tin.id = id;
        tin.placeholder = "添加标签";
        describe(tin, id);
        add(tagbox, chips, tin);
        box.appendChild(tagbox);
        var tags = [];
        var drawTags = function () {
          chips.textContent = "";
          tags.forEach(function (t, i) {
            var chip = el("span", "cl-ed-chip");
            chip.appendChild(el("span", null, t));
            var x = button("×", "cl-ed-chip-x", function () {
              tags.splice(i, 1);
              drawTags();
              formChanged("tags");
              tin.focus();
            });
            x.setAttribute("aria-label", "删除标签“" + t + "”");
            chip.appendChild(x);
            chips.appendChild(chip);
          });
        };
        var commit = function () {
          var parts = tin.value.split(/[,，、;；]/).map(function (s) { return s.trim(); }).filter(Boolean);
          tin.value = "";
          var added = false;
          parts.forEach(function (p) { if (tags.indexOf(p) === -1) { tags.push(p); added = true; } });
          if (added) { drawTags(); formChanged("tags"); }
        };
        tin.addEventListener("keydown", function (ev) {
          if (ev.key === "Enter" || ev.key === "," || ev.key === "，") { ev.preventDefault(); commit(); }
          else if (ev.key === "Backspace" && !tin.value && tags.length) { tags.pop(); drawTags(); formChanged("tags"); }
        });
        tin.addEventListener("input", function (ev) {
          ev.stopPropagation();
          if (/[,，、;；]/.test(tin.value)) commit();
        });
        tin.addEventListener("change", function (ev) { ev.stopPropagation(); });
        tin.addEventListener("blur", commit);
        ctl.get = function () { return tags.slice(); };
        ctl.set = function (v) { tags = Array.isArray(v) ? v.map(String) : []; drawTags(); };
        fields[f.name].focus = function () { tin.focus(); };
      } else if (f.kind === "list") {
        box = fieldBox(f.name, label, id, help + "（一行一条）");
        var ta = el("textarea", "cl-ed-area cl-ed-lines");
        ta.id = id;
        ta.rows = 4;
        ta.setAttribute("data-key", f.name);
        describe(ta, id);
        ta.addEventListener("input", function () { autoGrow(ta); });
        box.appendChild(ta);
        ctl.get = function () { return ta.value.split("\n").map(function (s) { return s.trim(); }).filter(Boolean); };
        ctl.set = function (v) { ta.value = Array.isArray(v) ? v.map(String).join("\n") : (v ? String(v) : ""); autoGrow(ta); };
        fields[f.name].focus = function () { ta.focus(); };
      } else {
        box = fieldBox(f.name, label, id, help);
        var input = el(f.kind === "textarea" ? "textarea" : "input", f.kind === "textarea" ? "cl-ed-area" : "cl-ed-input");
        input.id = id;
        input.setAttribute("data-key", f.name);
        describe(input, id);
        if (f.placeholder) input.placeholder = f.placeholder;
        if (f.auto) { input.readOnly = true; input.classList.add("cl-ed-auto"); }
        if (f.kind === "textarea") { input.rows = 3; input.addEventListener("input", function () { autoGrow(input); }); }
        box.appendChild(input);
        var count = null;
        if (f.max_length) { count = el("span", "cl-ed-count"); box.appendChild(count); }
        var recount = function () {
          if (!count) return;
          var n = input.value.trim().length;
          count.textContent = n + " / " + f.max_length + " 字";
          count.classList.toggle("cl-ed-count-bad", n > f.max_length || (f.min_length && n < f.min_length));
        };
        input.addEventListener("input", recount);
        ctl.get = function () { return f.name === "summary" ? input.value.trim() : input.value; };
        ctl.set = function (v) {
          input.value = v === null || v === undefined ? "" : (typeof v === "object" ? JSON.stringify(v) : String(v));
          if (f.kind === "textarea") autoGrow(input);
          recount();
        };
        fields[f.name].focus = function (p) { if (f.kind === "textarea") focusArea(input, p); else input.focus(); };
      }
      controls[f.name] = ctl;
      return finish(f.name, box);
    }

    function buildAgent() {
      var A = schema.agent;
      var box = fieldBox(AGENT, "## " + AGENT, null, "坐席接电话时看的三件事，检索页直接显示给坐席。", "fieldset");
      box.classList.add("cl-ed-agent");
      box.appendChild(fields[AGENT].slot);
      /* 先说 */
      var sayId = "cl-ed-a-say";
      var sayBox = fieldBox(AGENT + ".先说", A.say.label, sayId, A.say.hint);
      var say = el("input", "cl-ed-input");
      say.id = sayId;
      say.setAttribute("data-agent", "say");
      say.placeholder = "您好，……（不用加引号）";
      describe(say, sayId);
      sayBox.appendChild(say);
      fields[AGENT + ".先说"].focus = function () { say.focus(); };
      /* 先做: exactly N inputs */
      var doId = "cl-ed-a-do";
      var doBox = fieldBox(AGENT + ".先做", A["do"].label, null, A["do"].hint);
      doBox.querySelector(".cl-ed-help").id = doId + "-help";
      var doList = el("ol", "cl-ed-items");
      doBox.appendChild(doList);
      /* 别说: a list, at least min_items */
      var avId = "cl-ed-a-avoid";
      var avBox = fieldBox(AGENT + ".别说", A.avoid.label, null, A.avoid.hint);
      avBox.querySelector(".cl-ed-help").id = avId + "-help";
      var avList = el("ul", "cl-ed-items");
      var addAvoid = button("＋ 再加一条“别说”", "cl-ed-small", function () {
        item(avList, "别说", "", avId, true).focus();
        formChanged(AGENT);
      });
      add(avBox, avList, addAvoid);
      function item(list, what, value, idBase, removable) {
        var li = el("li", "cl-ed-item");
        var n = list.children.length + 1;
        var inp = el("input", "cl-ed-input");
        inp.value = value;
        inp.id = idBase + "-" + n;
        inp.setAttribute("aria-label", what + "第 " + n + " 条");
        inp.setAttribute("aria-describedby", idBase + "-help");
        inp.setAttribute("data-agent", what === "先做" ? "do" : "avoid");
        inp.placeholder = what === "先做" ? "第 " + n + " 件事" : "“……”（为什么不能说）";
        li.appendChild(inp);
        if (removable) {
          var x = button("删除", "cl-ed-small cl-ed-remove", function () {
            li.remove();
            renumber(list, what);
            formChanged(AGENT);
          });
          x.setAttribute("aria-label", "删除这条" + what);
          li.appendChild(x);
        }
        list.appendChild(li);
        return inp;
      }
      function renumber(list, what) {
        Array.prototype.forEach.call(list.querySelectorAll("input"), function (inp, i) {
          inp.setAttribute("aria-label", what + "第 " + (i + 1) + " 条");
        });
      }
      function values(list) {
        return Array.prototype.map.call(list.querySelectorAll("input"), function (i) { return i.value.trim(); }).filter(Boolean);
      }
      fields[AGENT + ".先做"].focus = function () { var i = doList.querySelector("input"); if (i) i.focus(); };
      fields[AGENT + ".别说"].focus = function () { var i = avList.querySelector("input"); if (i) i.focus(); };
      fields[AGENT].focus = function () { say.focus(); };
      agentCtl = {
        get: function () {
          var s = say.value.trim();
          if (s && s.charAt(0) !== "“") s = "“" + s + "”";
          return { say: s, "do": values(doList), avoid: values(avList) };
        },
        set: function (a) {
          var s = a.say || "";
          var m = /^“([^“”]*)”$/.exec(s);
          say.value = m ? m[1] : s;
          doList.textContent = "";
          avList.textContent = "";
          var dos = a["do"] || [], av = a.avoid || [];
          for (var i = 0; i < Math.max(A["do"].items, dos.length); i++) item(doList, "先做", dos[i] || "", doId, i >= A["do"].items);
          for (var j = 0; j < Math.max(A.avoid.min_items, av.length); j++) item(avList, "别说", av[j] || "", avId, j >= A.avoid.min_items);
        },
        markdown: function () {
          var a = agentCtl.get();
          var out = ["**先说**：" + a.say, "", "**先做**：", ""];
          a["do"].forEach(function (x, i) { out.push((i + 1) + ". " + x); });
          out.push("", "**别说**：", "");
          a.avoid.forEach(function (x) { out.push("- " + x); });
          return out.join("\n");
        }
      };
      add(box, finish(AGENT + ".先说", sayBox), finish(AGENT + ".先做", doBox), finish(AGENT + ".别说", avBox));
      return box;
    }

    function focusArea(area, p) {
      area.focus();
      if (p && p.found) {
        var i = area.value.indexOf(p.found);
        if (i !== -1) area.setSelectionRange(i, i + p.found.length);
      }
    }

    function fieldOf(target) {
      var n = target;
      while (n && n !== fset) {
        if (n.getAttribute && n.getAttribute("data-field")) {
          var name = n.getAttribute("data-field");
          return name.indexOf(AGENT) === 0 ? AGENT : name;
        }
        n = n.parentNode;
      }
      return null;
    }

    function onFormInput(ev) {
      if (S.readOnly || S.formStale) return;
      if (ev.target.getAttribute && ev.target.getAttribute("data-slug")) return;
      var name = fieldOf(ev.target);
      if (name && name !== "slug") formChanged(name);
    }

    function formChanged(name) {
      if (S.readOnly || S.formStale) return;
      S.touched[name] = true;
      setText(compose(), "form");
    }

    /* form → text: untouched parts are copied from the text the form was filled from */
    function compose() {
      var b = S.base;
      var lines = b.pre.slice();
      var known = {};
      schema.fields.forEach(function (f) {
        known[f.name] = true;
        if (!S.touched[f.name]) {
          if (b.blocks[f.name]) lines = lines.concat(b.blocks[f.name]);
          return;
        }
        lines.push(yamlLine(f.name, controls[f.name].get()));
      });
      b.order.forEach(function (k) { if (!known[k]) lines = lines.concat(b.blocks[k]); });
      while (lines.length && lines[lines.length - 1].trim() === "") lines.pop();
      var front = "---\n" + lines.join("\n") + "\n" + (b.closing || "---\n");
      if (!/\n$/.test(front)) front += "\n";
      var chunks = b.chunks.map(function (c) { return { name: c.name, lines: c.lines.slice() }; });
      var sectionNames = schema.sections.map(function (s) { return s.name; });
      sectionNames.forEach(function (name, idx) {
        if (!S.touched[name]) return;
        var content = name === AGENT ? agentCtl.markdown() : sectionAreas[name].area.value.trim();
        var fresh = content ? ["## " + name, "", content, ""] : ["## " + name, ""];
        var at = -1;
        chunks.forEach(function (c, i) { if (at === -1 && c.name === name) at = i; });
        if (at !== -1) { chunks[at] = { name: name, lines: fresh }; return; }
        /* a missing section: after the last chunk of an earlier schema section */
        var after = 0;
        chunks.forEach(function (c, i) { if (sectionNames.indexOf(c.name) !== -1 && sectionNames.indexOf(c.name) < idx) after = i; });
        var prev = chunks[after].lines;
        if (prev.length && prev[prev.length - 1] !== "") prev.push("");
        chunks.splice(after + 1, 0, { name: name, lines: fresh });
      });
      var body = chunks.map(function (c) { return c.lines.join("\n"); }).join("\n");
      return front + body.replace(/\n*$/, "\n");
    }

    /* text → form, from validate's "parsed" */
    function fillForm(parsed) {
      S.touched = {};
      var meta = parsed.meta;
      S.parsedMeta = meta;
      formNotice.textContent = "";
      if (!meta) {
        var n = notice("weak", "文本开头 --- 之间的字段格式有误（YAML 读不出来），表单暂时不能用。请在「Markdown 文本」里按检查结果改正，改好后表单会自动恢复。");
        add(n, el("br"), button("切换到 Markdown 文本", "md-button", function () { setMode("text"); }));
        formNotice.appendChild(n);
      }
      schema.fields.forEach(function (f) { controls[f.name].set(meta ? meta[f.name] : null); });
      schema.sections.forEach(function (s) {
        if (s.name === AGENT) return;
        var m = sectionAreas[s.name];
        m.area.value = parsed.sections[s.name] || "";
        autoGrow(m.area);
      });
      agentCtl.set(parsed.agent || {});
      var extraKeys = meta ? Object.keys(meta).filter(function (k) { return !controls[k]; }) : [];
      var known = schema.sections.map(function (s) { return s.name; });
      var extraSecs = Object.keys(parsed.sections || {}).filter(function (k) { return known.indexOf(k) === -1; });
      if (extraKeys.length || extraSecs.length) {
        formNotice.appendChild(notice("weak", "表单里没有的内容会原样保留（在「Markdown 文本」里查看和修改）：" +
          extraKeys.map(function (k) { return "字段 " + k; }).concat(extraSecs.map(function (s) { return "章节“## " + s + "”"; })).join("、")));
      }
      setFormStale(false);
      fset.disabled = S.readOnly || !meta;
      renderFieldProblems();
    }

    function setFormStale(stale) {
      S.formStale = stale;
      fset.disabled = stale || S.readOnly || (S.parsedMeta === null && S.formText !== null);
      formPanel.classList.toggle("cl-ed-syncing", stale);
    }

    function rebase(text) { S.base = split(text); }

    function growAll() {
      Array.prototype.forEach.call(wrap.querySelectorAll("textarea"), autoGrow);
    }
    var resizeTimer = null;
    function onResize() { clearTimeout(resizeTimer); resizeTimer = setTimeout(growAll, 150); }
    window.addEventListener("resize", onResize);

    /* ---------- the text ---------- */
    function setText(text, source) {
      if (S.readOnly || text === S.text) return;
      S.text = text;
      if (source !== "text") { md.area.value = text; autoGrow(md.area); }
      if (source === "form") S.formText = text;
      else { rebase(text); setFormStale(true); }
      md.render([], []);
      writeLocal();
      scheduleCheck(source === "form" || source === "text" ? CHECK_DELAY : 0);
      scheduleSave();
      if (!S.saving) saveState.textContent = "有修改，停笔后自动保存";
      saveState.className = "cl-ed-save";
    }

    function setMode(mode) {
      S.mode = mode;
      tabForm.setAttribute("aria-selected", mode === "form" ? "true" : "false");
      tabText.setAttribute("aria-selected", mode === "text" ? "true" : "false");
      tabForm.tabIndex = mode === "form" ? 0 : -1;
      tabText.tabIndex = mode === "text" ? 0 : -1;
      formPanel.hidden = mode !== "form";
      textPanel.hidden = mode !== "text";
      growAll();
      if (mode === "text") { md.area.value = S.text; autoGrow(md.area); renderTextMarks(); }
      else if (S.formText !== S.text) runCheck();
    }

    /* ---------- live checks and preview ---------- */
    function scheduleCheck(delay) {
      clearTimeout(S.checkTimer);
      S.checkTimer = setTimeout(runCheck, delay === undefined ? CHECK_DELAY : delay);
    }
    function slugValue() {
      var v = controls.__slug.value.trim();
      return v || d.slug || null;
    }
    function runCheck() {
      clearTimeout(S.checkTimer);
      if (S.closed) return;
      var text = S.text, seq = ++S.checkSeq;
      var body = { text: text };
      var slug = slugValue();
      if (slug) body.slug = slug;
      checks.classList.add("cl-ed-checking");
      cl.api("POST", "api/validate", body).then(function (r) {
        if (S.closed || seq !== S.checkSeq || text !== S.text) return;
        checks.classList.remove("cl-ed-checking");
        if (!r.ok) {
          checkStatus.textContent = r.status === 401 ? "登录已过期 — 请重新登录（修改已留在这台电脑的浏览器里）" : "检查失败：" + errorText(r);
          checkStatus.className = "cl-ed-check-status cl-ed-error";
          return;
        }
        if (S.formText !== text) { S.formText = text; fillForm(r.data.parsed); }
        renderProblems(r.data.problems, text);
      });
      cl.api("POST", "api/preview", body).then(function (r) {
        if (S.closed || seq !== S.checkSeq || text !== S.text || !r.ok) return;
        preview.innerHTML = r.data.html;  // the one innerHTML: sanitised by the server (POST /api/preview)
      });
    }

    function fieldLabel(name) {
      if (!name) return null;
      if (fields[name]) return name.indexOf(AGENT + ".") === 0 ? AGENT + " · " + fields[name].label : fields[name].label;
      return name;
    }

    function problemView(p, inList) {
      var box = el(inList ? "li" : "div", "cl-ed-problem" + (p.found ? " cl-ed-problem-pd" : ""));
      var head = el(inList ? "button" : "div", "cl-ed-problem-head");
      if (inList) {
        head.type = "button";
        head.addEventListener("click", function () { focusProblem(p); });
        var where = [];
        if (p.line) where.push("第 " + p.line + " 行");
        var lab = fieldLabel(p.field);
        if (lab) where.push(lab);
        if (where.length) head.appendChild(el("span", "cl-ed-problem-where", where.join(" · ")));
      }
      head.appendChild(el("span", "cl-ed-problem-msg", p.message));
      box.appendChild(head);
      if (p.fix) box.appendChild(el("div", "cl-ed-problem-fix", "改法：" + p.fix));
      if (p.found && p.replacement && !S.readOnly) {
        var fix = button("替换为 " + p.replacement, "md-button cl-ed-replace", function () { replace(p); });
        fix.title = "把“" + p.found + "”换成“" + p.replacement + "”";
        box.appendChild(fix);
      }
      return box;
    }

    function renderProblems(problems, text, initial) {
      S.problems = problems || [];
      S.problemsText = text;
      problemList.textContent = "";
      barChecks.textContent = S.problems.length ? S.problems.length + " 个问题" : "没有问题";
      barChecks.className = "cl-ed-bar-checks " + (S.problems.length ? "cl-ed-bad" : "cl-ed-ok");
      if (!S.problems.length) {
        checkStatus.textContent = d.status === "draft" ? "没有发现问题，可以提交审核" : "没有发现问题";
        checkStatus.className = "cl-ed-check-status cl-ed-ok";
      } else {
        checkStatus.textContent = "发现 " + S.problems.length + " 个问题（和 caselib check 的提示一样；点一条跳到对应位置）";
        checkStatus.className = "cl-ed-check-status cl-ed-bad";
        S.problems.forEach(function (p) { problemList.appendChild(problemView(p, true)); });
      }
      if (!initial) renderFieldProblems();
      renderTextMarks();
    }

    function renderFieldProblems() {
      var ranges = {};
      Object.keys(fields).forEach(function (k) {
        fields[k].box.classList.remove("cl-ed-bad");
        fields[k].slot.textContent = "";
      });
      Object.keys(sectionAreas).forEach(function (k) { ranges[k] = []; });
      if (S.problemsText === S.text && S.formText === S.text) {
        S.problems.forEach(function (p) {
          var f = fields[p.field];
          if (!f) return;
          f.box.classList.add("cl-ed-bad");
          f.slot.appendChild(problemView(p, false));
          if (ranges[p.field] && p.found) {  /* personal data, marked in place in the section's textarea */
            var v = sectionAreas[p.field].area.value, i = v.indexOf(p.found);
            while (i !== -1) { ranges[p.field].push([i, i + p.found.length]); i = v.indexOf(p.found, i + 1); }
          }
        });
      }
      Object.keys(sectionAreas).forEach(function (k) { sectionAreas[k].render([], ranges[k]); });
    }

    function renderTextMarks() {
      if (S.problemsText !== S.text || md.area.value !== S.text) { md.render([], []); return; }
      var lines = [], ranges = [];
      S.problems.forEach(function (p) {
        if (p.line) lines.push(p.line - 1);
        if (p.found && p.start !== undefined) ranges.push([p.start, p.end]);
      });
      md.render(lines, ranges);
    }

    function focusProblem(p) {
      var f = fields[p.field];
      if (S.mode === "form" && f && f.focus && !fset.disabled) {
        f.box.scrollIntoView({ block: "center" });
        f.focus(p);
        return;
      }
      if (S.mode !== "text") setMode("text");
      var lines = S.text.split("\n");
      var a = 0;
      for (var i = 0; i < (p.line || 1) - 1 && i < lines.length; i++) a += lines[i].length + 1;
      var b = a + (lines[(p.line || 1) - 1] || "").length;
      if (p.found && p.start !== undefined && S.text.slice(p.start, p.end) === p.found) { a = p.start; b = p.end; }
      md.area.focus();
      md.area.setSelectionRange(a, b);
      var top = md.lineTop((p.line || 1) - 1);
      if (top !== null) window.scrollTo(window.scrollX, window.scrollY + top - window.innerHeight / 3);
    }

    function replace(p) {
      if (S.readOnly) return;
      if (S.text.slice(p.start, p.end) !== p.found) {
        checkStatus.textContent = "文字已经改过了，正在重新检查…";
        runCheck();
        return;
      }
      setText(S.text.slice(0, p.start) + p.replacement + S.text.slice(p.end), "replace");
      runCheck();
    }

    /* ---------- saving ---------- */
    function localKey() { return "caselib-draft-" + d.id; }
    function writeLocal() {
      try {
        localStorage.setItem(localKey(), JSON.stringify({ text: S.text, at: Date.now(), version: S.version }));
      } catch (e) { /* storage full or disabled: the server copy still autosaves */ }
    }
    function readLocal() {
      try { return JSON.parse(localStorage.getItem(localKey()) || "null"); } catch (e) { return null; }
    }
    function dropLocal() { try { localStorage.removeItem(localKey()); } catch (e) { /* ignore */ } }

    function offerRecovery() {
      var local = readLocal();
      if (!local || typeof local.text !== "string" || local.text === S.text) return;
      if (!(local.at > Date.parse(d.updated_at)) || d.status !== "draft") return;
      var box = notice("weak", "这台电脑的浏览器里有这份草稿更新的修改（" + when(new Date(local.at).toISOString()) +
        "），比服务器上保存的（" + when(d.updated_at) + "）新，可能是上次没来得及保存。");
      box.classList.add("cl-ed-recover");
      var yes = button("恢复未保存的修改", "md-button md-button--primary", function () {
        box.remove();
        setText(local.text, "restore");
        save();
      });
      var no = button("不用了，用服务器上的", "md-button", function () { box.remove(); dropLocal(); });
      add(box, el("br"), yes, no);
      notices.appendChild(box);
    }

    function scheduleSave(delay) {
      clearTimeout(S.saveTimer);
      S.saveTimer = setTimeout(function () { save(); }, delay === undefined ? SAVE_DELAY : delay);
    }

    function dirty() { return S.text !== S.saved || (S.slugDirty && d.kind === "new"); }

    function put(body, keepalive) {
      var opts = { method: "PUT", credentials: "same-origin", body: JSON.stringify(body),
                   headers: { "Content-Type": "application/json", "X-CSRF-Token": (auth && auth.csrf) || "" } };
      if (keepalive && opts.body.length < 20000) opts.keepalive = true;  // keepalive bodies are capped at 64 KB
      return fetch(cl.base + "api/drafts/" + d.id, opts).then(function (resp) {
        return resp.text().then(function (t) {
          var data = null;
          try { data = t ? JSON.parse(t) : null; } catch (e) { data = null; }
          return { status: resp.status, ok: resp.ok, data: data };
        });
      }, function () {
        return { status: 0, ok: false, data: { error: { message: "连不上服务器（网络断了？）" } } };
      });
    }

    function save(keepalive) {
      clearTimeout(S.saveTimer);
      if (S.readOnly || S.conflict || S.closed && !keepalive) return Promise.resolve(false);
      if (!dirty()) return Promise.resolve(true);
      if (S.saving) { S.saveAgain = true; return S.saving; }
      var text = S.text;
      var body = { text: text, version: S.version };
      var slug = controls.__slug.value.trim();
      if (d.kind === "new" && slug) body.slug = slug;
      saveState.textContent = "正在保存…";
      saveState.className = "cl-ed-save";
      S.saving = put(body, keepalive).then(function (r) {
        S.saving = false;
        if (r.ok) {
          clearTimeout(S.retryTimer);
          S.version = r.data.version;
          S.saved = text;
          S.slugDirty = false;
          d.updated_at = r.data.updated_at;
          if (r.data.slug) d.slug = r.data.slug;
          if (!S.closed) {
            saveState.textContent = "已保存 " + clock(new Date()) + "（第 " + S.version + " 版）";
            saveState.className = "cl-ed-save cl-ed-saved";
          }
          if (S.text === text) writeLocal();
          if (S.saveAgain || dirty()) { S.saveAgain = false; scheduleSave(300); }
          return true;
        }
        S.saveAgain = false;
        var err = r.data && r.data.error;
        if (r.status === 409 && err && err.field === "version") { showConflict(err); return false; }
        if (r.status === 409 && err && err.field === "status") {
          saveState.textContent = "没有保存：" + err.message;
          saveState.className = "cl-ed-save cl-ed-error";
          reloadStatus(err.message);
          return false;
        }
        var transient = r.status === 0 || r.status === 429 || r.status >= 500;
        saveState.textContent = (r.status === 401 ? "没有保存：登录已过期，请在新窗口重新登录（修改留在这台电脑的浏览器里）"
          : "没有保存：" + errorText(r)) + (transient ? " — " + RETRY_DELAY / 1000 + " 秒后自动重试" : "");
        saveState.className = "cl-ed-save cl-ed-error";
        clearTimeout(S.retryTimer);
        if (transient || r.status === 401) S.retryTimer = setTimeout(function () { save(); }, RETRY_DELAY);
        return false;
      });
      return S.saving;
    }

    function showConflict(err) {
      S.conflict = err;
      setReadOnly(true);
      saveState.textContent = "没有保存：别人先保存了这份草稿";
      saveState.className = "cl-ed-save cl-ed-error";
      var box = el("div", "cl-ed-conflict");
      box.id = "cl-ed-conflict";
      box.setAttribute("role", "alert");
      box.appendChild(el("h2", "cl-ed-h", "保存冲突：这份草稿已被别人改过"));
      box.appendChild(el("p", null, err.message));
      box.appendChild(el("p", "cl-ed-help", "左边是你的修改（还没保存），右边是服务器上现在的版本（第 " + err.current_version +
        " 版）。两边不同的行标了颜色。选一份留下；要合并的话，先载入最新的，再把你要的内容复制过去。"));
      var mine = S.text, theirs = err.current_text || "";
      var cols = el("div", "cl-ed-conflict-cols");
      add(cols, side("你的修改", mine, theirs, "cl-ed-conflict-mine"), side("现在的版本（第 " + err.current_version + " 版）", theirs, mine, "cl-ed-conflict-theirs"));
      box.appendChild(cols);
      var keep = button("用我的覆盖", "md-button md-button--primary", function () {
        S.version = err.current_version;
        S.conflict = null;
        box.remove();
        setReadOnly(false);
        save();
      });
      var take = button("放弃我的，载入最新", "md-button", function () {
        S.conflict = null;
        box.remove();
        setReadOnly(false);
        S.version = err.current_version;
        S.saved = theirs;
        setText(theirs, "conflict");
        clearTimeout(S.saveTimer);
        dropLocal();
        saveState.textContent = "已载入最新的第 " + S.version + " 版";
        saveState.className = "cl-ed-save cl-ed-saved";
      });
      add(box, keep, take);
      notices.appendChild(box);
      box.scrollIntoView({ block: "start" });
    }

    function side(title, text, other, cls) {
      var col = el("div", "cl-ed-conflict-side " + cls);
      col.appendChild(el("h3", null, title));
      var pre = el("pre", "cl-ed-conflict-text");
      var otherLines = {};
      other.split("\n").forEach(function (l) { otherLines[l] = true; });
      text.split("\n").forEach(function (l) {
        pre.appendChild(el("span", "cl-ed-cline" + (otherLines[l] ? "" : " cl-ed-cline-diff"), l || " "));
      });
      col.appendChild(pre);
      return col;
    }

    /* ---------- status: draft / in_review ---------- */
    function setReadOnly(ro) {
      S.readOnly = ro;
      md.area.readOnly = ro;
      setFormStale(S.formStale);
      submitBtn.disabled = ro;
      wrap.classList.toggle("cl-ed-readonly", ro);
    }

    function applyStatus() {
      badge.textContent = d.status_name;
      badge.className = "cl-badge cl-ed-st cl-ed-st-" + d.status;
      kind.textContent = (d.kind === "edit" ? "修改 cases/" + d.slug + ".md" : d.kind === "restore" ? "恢复旧版本 cases/" + d.slug + ".md" : "新案例") +
        " · 作者 " + d.author_name + " · 草稿 " + d.id;
      Array.prototype.slice.call(notices.querySelectorAll(".cl-ed-state")).forEach(function (n) { n.remove(); });
      var open = d.status === "draft";
      setReadOnly(!open || !!S.conflict);
      submitBtn.hidden = !open;
      withdrawBtn.hidden = d.status !== "in_review";
      if (d.status === "in_review") {
        var box = notice("ok", "已提交，等待审核。审核员批准后才会发布；要再改，先点“撤回”。");
        box.classList.add("cl-ed-state");
        box.id = "cl-ed-submitted";
        notices.insertBefore(box, notices.firstChild);
      } else if (d.status !== "draft") {
        var pub = notice("ok", "这份草稿的状态是“" + d.status_name + "”，不能再改。");
        pub.classList.add("cl-ed-state");
        if (d.status === "published" && d.slug) {
          var link = el("a", null, "打开已发布的案例");
          link.href = cl.base + "cases/" + encodeURIComponent(d.slug) + ".html";
          add(pub, document.createTextNode(" "), link);
        }
        notices.insertBefore(pub, notices.firstChild);
      }
      if (d.comment && open) {
        var rj = rejection(d);
        rj.classList.add("cl-ed-state");
        notices.insertBefore(rj, notices.firstChild);
      }
    }

    function reloadStatus(message) {
      cl.api("GET", "api/drafts/" + d.id).then(function (r) {
        if (!r.ok) return;
        d.status = r.data.status;
        d.status_name = r.data.status_name;
        d.comment = r.data.comment;
        applyStatus();
        if (message) notices.appendChild(notice("weak", message));
      });
    }

    function saveAll(tries) {
      return save().then(function (ok) { return ok && dirty() && tries > 0 ? saveAll(tries - 1) : ok; });
    }

    function submit() {
      submitBtn.disabled = true;
      saveState.textContent = "正在提交…";
      saveAll(3).then(function (ok) {
        if (!ok || dirty()) {
          submitBtn.disabled = S.readOnly;
          if (!S.conflict) saveState.textContent = "还没保存好，没有提交 — 稍后再点“提交审核”";
          return;
        }
        return cl.api("POST", "api/drafts/" + d.id + "/submit", {}).then(function (r) {
          if (r.ok) {
            d.status = r.data.status;
            d.status_name = "待审核";
            if (r.data.slug) { d.slug = r.data.slug; controls.__slug.value = r.data.slug; }
            dropLocal();
            applyStatus();
            renderProblems(S.problems, S.problemsText);
            saveState.textContent = "已提交 " + clock(new Date());
            saveState.className = "cl-ed-save cl-ed-saved";
            return;
          }
          submitBtn.disabled = S.readOnly;
          var err = r.data && r.data.error;
          if (r.status === 422 && err && err.problems) {
            renderProblems(err.problems, S.text);
            checkStatus.textContent = "没有提交：还有 " + err.problems.length + " 个问题，改好后再提交审核";
            checkStatus.className = "cl-ed-check-status cl-ed-bad";
            checks.scrollIntoView({ block: "nearest" });
            saveState.textContent = "已保存，未提交";
            return;
          }
          saveState.textContent = "没有提交：" + errorText(r);
          saveState.className = "cl-ed-save cl-ed-error";
          if (r.status === 409) reloadStatus();
        });
      });
    }

    function withdraw() {
      withdrawBtn.disabled = true;
      cl.api("POST", "api/drafts/" + d.id + "/withdraw", {}).then(function (r) {
        withdrawBtn.disabled = false;
        if (!r.ok) { saveState.textContent = "没有撤回：" + errorText(r); saveState.className = "cl-ed-save cl-ed-error"; reloadStatus(); return; }
        d.status = r.data.status;
        d.status_name = "草稿";
        applyStatus();
        renderProblems(S.problems, S.problemsText);
        saveState.textContent = "已撤回，可以接着改";
        saveState.className = "cl-ed-save cl-ed-saved";
      });
    }

    /* import notes / the draft's note */
    if (extra.notes && extra.notes.length) {
      var nb = notice("weak", "");
      nb.classList.add("cl-ed-notes");
      nb.appendChild(el("strong", null, "从“" + extra.file + "”导入。请逐条核对："));
      var ul = el("ul");
      extra.notes.forEach(function (n) { ul.appendChild(el("li", null, n)); });
      nb.appendChild(ul);
      notices.appendChild(nb);
    } else if (d.note) {
      var nn = notice("weak", "说明：" + d.note);
      nn.classList.add("cl-ed-notes");
      notices.appendChild(nn);
    }

    document.addEventListener("keydown", onKey);
    function onKey(ev) {
      if ((ev.ctrlKey || ev.metaKey) && (ev.key === "s" || ev.key === "S")) { ev.preventDefault(); save(); }
    }

    self.flush = function (keepalive) { if (dirty() && !S.readOnly && !S.conflict) save(keepalive); };
    self.close = function () {
      self.flush(true);
      S.closed = true;
      clearTimeout(S.checkTimer);
      clearTimeout(S.saveTimer);
      clearTimeout(S.retryTimer);
      document.removeEventListener("keydown", onKey);
      window.removeEventListener("resize", onResize);
    };
    self.state = S;  // for debugging in the console
  }

  start();
  }
})();
