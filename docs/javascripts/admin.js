/* 账号与操作记录页（管理员）：GET /api/users 的账号表（改角色、停用/启用、重设密码），
   新增账号（POST /api/users），以及操作记录（GET /api/audit?since=…）。
   Everything from the API or the user goes in with textContent (never innerHTML). */
(function () {
  "use strict";
  var el, when, errorText;  // window.caselib's shared helpers, set in start()
  var ROLES = ["agent", "trainer", "reviewer", "admin"];
  var SINCE = [["1d", "最近 1 天"], ["7d", "最近 7 天"], ["30d", "最近 30 天"], ["", "全部"]];

  function notice(kind, text) { return el("div", "cl-notice cl-notice-" + kind, text); }
  function head(table, names) {
    var tr = el("tr");
    names.forEach(function (h) { tr.appendChild(el("th", null, h)); });
    table.appendChild(el("thead")).appendChild(tr);
    return table.appendChild(el("tbody"));
  }

  function start() {
    var root = document.getElementById("cl-admin");
    if (!root || !window.caselib) return;
    var cl = window.caselib;
    el = cl.el; when = cl.when; errorText = cl.errorText;
    var NAMES = cl.ROLE_NAMES;

    cl.ready.then(function () {
      if (cl.user && cl.can("admin")) return build();
      if (cl.user) {
        root.textContent = "";
        root.appendChild(notice("weak", "你的账号是“" + (NAMES[cl.user.role] || cl.user.role) +
          "”，不能管理账号 — 这一页只给管理员用。"));
        return;
      }
      cl.api("GET", "api/me").then(function (r) {
        root.textContent = "";
        if (r.status === 0) { root.appendChild(notice("offline", errorText(r))); return; }
        var n = notice("weak", "账号管理要先用管理员账号登录。");
        n.appendChild(document.createTextNode(" "));
        var a = el("a", null, "去登录");
        a.href = cl.base + "login.html?next=" + encodeURIComponent(location.pathname);
        n.appendChild(a);
        root.appendChild(n);
      });
    });

    function build() {
      root.textContent = "";
      /* ---------------------------------------------------------------- users */
      root.appendChild(el("h2", null, "账号"));
      var userStatus = el("p", "cl-status cl-users-status");
      userStatus.setAttribute("role", "status");
      userStatus.setAttribute("aria-live", "polite");
      var usersBox = el("div", "cl-users");
      root.appendChild(usersBox);
      root.appendChild(userStatus);

      var form = el("form", "cl-form cl-user-form");
      form.appendChild(el("h3", null, "新增账号"));
      function field(label, input) {
        var l = el("label", null, label + " ");
        l.appendChild(input);
        form.appendChild(l);
        return input;
      }
      var uName = field("用户名", el("input"));
      uName.name = "username"; uName.required = true; uName.autocomplete = "off"; uName.placeholder = "如 zhangsan";
      var uDisplay = field("显示名", el("input"));
      uDisplay.name = "display_name"; uDisplay.placeholder = "如 张三（不填就用用户名）";
      var uRole = field("角色", el("select"));
      uRole.name = "role";
      ROLES.forEach(function (r) {
        var o = el("option", null, NAMES[r]);
        o.value = r;
        uRole.appendChild(o);
      });
      uRole.value = "trainer";
      var uPass = field("初始密码", el("input"));
      uPass.name = "password"; uPass.type = "password"; uPass.required = true; uPass.autocomplete = "new-password";
      var add = el("button", "md-button md-button--primary", "新增账号");
      add.type = "submit";
      form.appendChild(add);
      var formStatus = el("p", "cl-status cl-user-form-status");
      formStatus.setAttribute("role", "status");
      form.appendChild(formStatus);
      root.appendChild(form);

      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var body = { username: uName.value.trim(), role: uRole.value, password: uPass.value };
        if (uDisplay.value.trim()) body.display_name = uDisplay.value.trim();
        add.disabled = true;
        formStatus.textContent = "正在新增…";
        cl.api("POST", "api/users", body).then(function (r) {
          add.disabled = false;
          if (!r.ok) { formStatus.textContent = errorText(r); return; }
          formStatus.textContent = "已新增账号 " + r.data.username + "（" + (r.data.role_name || NAMES[r.data.role]) +
            "）。把用户名和初始密码当面或电话告诉本人。";
          form.reset();
          uRole.value = "trainer";
          loadUsers();
          loadAudit();
        });
      });

      function patch(u, body, done) {
        userStatus.textContent = "正在保存…";
        return cl.api("PATCH", "api/users/" + encodeURIComponent(u.username), body).then(function (r) {
          if (!r.ok) { userStatus.textContent = errorText(r); loadUsers(); return; }
          userStatus.textContent = done;
          loadUsers();
          loadAudit();
        });
      }

      function loadUsers() {
        return cl.api("GET", "api/users").then(function (r) {
          usersBox.textContent = "";
          if (!r.ok) { usersBox.appendChild(notice("weak", errorText(r))); return; }
          var users = r.data.users || [];
          if (!users.length) { usersBox.appendChild(el("p", "cl-empty", "还没有账号。")); return; }
          var table = el("table", "cl-table cl-users-table");
          var body = head(table, ["用户名", "显示名", "角色", "状态", "开通时间", "操作"]);
          users.forEach(function (u) {
            var tr = el("tr", u.disabled ? "cl-disabled" : null);
            tr.setAttribute("data-username", u.username);
            tr.appendChild(el("td", null, u.username));
            var nameCell = el("td", null, u.display_name);
            if (self) nameCell.appendChild(el("span", "cl-slug", "（你自己）"));
            tr.appendChild(nameCell);
            var roleCell = el("td");
            var sel = el("select", "cl-role");
            sel.setAttribute("aria-label", u.username + " 的角色");
            ROLES.forEach(function (r) {
              var o = el("option", null, NAMES[r]);
              o.value = r;
              sel.appendChild(o);
            });
            sel.value = u.role;
            var self = cl.user && u.username === cl.user.username;
            if (self) {  // an admin who demotes or disables themselves is locked out of this page
              sel.disabled = true;
              sel.title = "不能改自己的角色：请另一位管理员来改";
            }
            sel.addEventListener("change", function () {
              patch(u, { role: sel.value }, "已把 " + u.username + " 的角色改为“" + NAMES[sel.value] + "”。");
            });
            roleCell.appendChild(sel);
            tr.appendChild(roleCell);
            tr.appendChild(el("td", "cl-user-state", (u.disabled ? "已停用" : "正常") + (u.sso ? " · 统一登录" : "")));
            tr.appendChild(el("td", null, when(u.created_at)));
            var ops = el("td", "cl-user-ops");
            var toggle = el("button", "cl-small-button cl-toggle", u.disabled ? "启用" : "停用");
            toggle.type = "button";
            toggle.addEventListener("click", function () {
              patch(u, { disabled: !u.disabled }, (u.disabled ? "已启用 " : "已停用 ") + u.username + "。");
            });
            if (!self) ops.appendChild(toggle);
            if (!u.sso) {
              var reset = el("button", "cl-small-button cl-reset", "重设密码");
              reset.type = "button";
              reset.addEventListener("click", function () {
                var p1 = window.prompt("给 " + u.username + " 设一个新密码：");
                if (p1 === null) return;
                if (!p1) { userStatus.textContent = "密码不能是空的。"; return; }
                var p2 = window.prompt("再输入一次新密码：");
                if (p2 === null) return;
                if (p1 !== p2) { userStatus.textContent = "两次输入的密码不一样，密码没有改。"; return; }
                patch(u, { password: p1 }, "已重设 " + u.username + " 的密码。把新密码当面或电话告诉本人。");
              });
              ops.appendChild(reset);
            }
            tr.appendChild(ops);
            body.appendChild(tr);
          });
          usersBox.appendChild(table);
        });
      }

      /* ---------------------------------------------------------------- audit log */
      root.appendChild(el("h2", null, "操作记录"));
      var bar = el("div", "cl-audit-bar");
      var sinceLabel = el("label", null, "时间范围 ");
      var since = el("select", "cl-audit-since");
      SINCE.forEach(function (s) {
        var o = el("option", null, s[1]);
        o.value = s[0];
        since.appendChild(o);
      });
      since.value = "7d";
      sinceLabel.appendChild(since);
      bar.appendChild(sinceLabel);
      var refresh = el("button", "cl-small-button", "刷新");
      refresh.type = "button";
      bar.appendChild(refresh);
      root.appendChild(bar);
      var auditStatus = el("p", "cl-status cl-audit-status");
      root.appendChild(auditStatus);
      var auditBox = el("div", "cl-audit");
      root.appendChild(auditBox);
      since.addEventListener("change", loadAudit);
      refresh.addEventListener("click", loadAudit);

      var auditSeq = 0;
      function loadAudit() {
        var seq = ++auditSeq;
        auditStatus.textContent = "正在加载…";
        var q = since.value ? "?since=" + encodeURIComponent(since.value) + "&limit=500" : "?limit=500";
        return cl.api("GET", "api/audit" + q).then(function (r) {
          if (seq !== auditSeq) return;  // a newer request is on its way
          auditBox.textContent = "";
          if (!r.ok) { auditStatus.textContent = errorText(r); return; }
          var entries = r.data.entries || [];
          auditStatus.textContent = entries.length ? "共 " + entries.length + " 条" + (entries.length >= 500 ? "（只显示最近的 500 条）" : "") : "";
          if (!entries.length) { auditBox.appendChild(el("p", "cl-empty", "这段时间没有操作记录。")); return; }
          var table = el("table", "cl-table cl-audit-table");
          var body = head(table, ["时间", "操作人", "操作", "对象", "说明"]);
          entries.forEach(function (e) {
            var tr = el("tr");
            tr.setAttribute("data-action", e.action);
            tr.appendChild(el("td", "cl-nowrap", when(e.at, true)));
            tr.appendChild(el("td", null, e.actor || "—"));
            tr.appendChild(el("td", null, e.action_name || e.action));
            tr.appendChild(el("td", null, e.target || ""));
            var detail = el("td", null, e.detail || "");
            if (e.ip) detail.title = "IP " + e.ip;
            tr.appendChild(detail);
            body.appendChild(tr);
          });
          auditBox.appendChild(table);
        });
      }

      loadUsers();
      loadAudit();
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
