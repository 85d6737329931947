/* 全站共用：登录状态、带 CSRF 的接口调用、页眉上的“登录 / 退出”，以及只给培训员看的“待复核”标记。
   window.caselib = { base, me, api(method, path, body), signIn(username, password), signOut(), onUser(fn) }.
   base: the site root, derived from this script's own URL, so the site also works behind a path
   prefix. Everything from the API goes in with textContent (never innerHTML). */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? script.src.replace(/javascripts\/caselib-auth\.js(\?.*)?$/, "") : "/";
  var state = { user: null, csrf: null, review_months: 12 };
  var listeners = [];

  function api(method, path, body, raw) {
    var opts = { method: method, credentials: "same-origin", headers: {} };
    if (body !== undefined && body !== null) {
      if (raw) { opts.body = body; opts.headers["Content-Type"] = "application/octet-stream"; }
      else { opts.body = JSON.stringify(body); opts.headers["Content-Type"] = "application/json"; }
    }
    if (method !== "GET" && state.csrf) opts.headers["X-CSRF-Token"] = state.csrf;
    return fetch(base + path.replace(/^\//, ""), opts).then(function (resp) {
      return resp.text().then(function (t) {
        var data = null;
        try { data = t ? JSON.parse(t) : null; } catch (e) { data = null; }
        return { status: resp.status, ok: resp.ok, data: data };
      });
    }, function () {
      return { status: 0, ok: false, data: { error: { code: "offline", field: null,
        message: "连不上检索服务：这个页面需要用 caselib serve 打开（不能直接打开文件）" } } };
    });
  }

  function set(me) {
    state.user = me && me.user ? me.user : null;
    state.csrf = me ? me.csrf : null;
    if (me && me.review_months) state.review_months = me.review_months;
    document.documentElement.dataset.clRole = state.user ? state.user.role : "anonymous";
    renderHeader();
    markStale();
    listeners.forEach(function (fn) { fn(state.user); });
  }

  var ready = api("GET", "api/me").then(function (r) {
    set(r.ok ? r.data : null);
    if (r.ok && r.data && r.data.require_login && !state.user && !/login\.html$/.test(location.pathname)) {
      location.href = base + "login.html?next=" + encodeURIComponent(location.pathname + location.search);
    }
    return state;
  });

  function signIn(username, password) {
    return api("POST", "api/login", { username: username, password: password }).then(function (r) {
      if (r.ok) set(r.data);
      return r;
    });
  }
  function signOut() {
    return api("POST", "api/logout", {}).then(function (r) { set(null); return r; });
  }

  var ROLE_NAMES = { agent: "坐席", trainer: "培训员", reviewer: "审核员", admin: "管理员" };
  var RANK = { anonymous: 0, agent: 1, trainer: 2, reviewer: 3, admin: 4 };
  function can(role) { return state.user && RANK[state.user.role] >= RANK[role]; }

  function renderHeader() {
    var header = document.querySelector(".md-header__inner");
    if (!header) return;
    var box = document.getElementById("cl-auth");
    if (!box) {
      box = document.createElement("div");
      box.id = "cl-auth";
      box.className = "cl-auth";
      header.appendChild(box);
    }
    box.textContent = "";
    if (state.user) {
      var who = document.createElement("span");
      who.className = "cl-auth-user";
      who.textContent = state.user.display_name + "（" + (ROLE_NAMES[state.user.role] || state.user.role) + "）";
      box.appendChild(who);
      var out = document.createElement("button");
      out.type = "button";
      out.className = "cl-auth-button";
      out.textContent = "退出";
      out.addEventListener("click", function () { signOut().then(function () { location.reload(); }); });
      box.appendChild(out);
    } else {
      var a = document.createElement("a");
      a.className = "cl-auth-button";
      a.href = base + "login.html?next=" + encodeURIComponent(location.pathname);
      a.textContent = "登录";
      box.appendChild(a);
    }
  }

  /* 案例页上的“待复核”：reviewed_at 早于 review_months 个月（或没有复核记录）时，只给培训员及以上显示。 */
  function markStale() {
    var marks = document.querySelectorAll(".cl-review-due");
    Array.prototype.forEach.call(marks, function (m) {
      var at = m.getAttribute("data-reviewed-at");
      var due = true;
      if (at) {
        var d = new Date(at + "T00:00:00");
        var limit = new Date();
        limit.setMonth(limit.getMonth() - state.review_months);
        due = d < limit;
      }
      m.hidden = !(due && can("trainer"));
    });
  }

  /* DOM helpers the authoring pages share; everything goes in as text. */
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function when(iso, seconds) {
    if (!iso) return "—";
    var d = new Date(iso);
    if (isNaN(d.getTime())) return iso;
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" +
      pad(d.getMinutes()) + (seconds ? ":" + pad(d.getSeconds()) : "");
  }
  function errorText(r) {
    if (r.data && r.data.error && r.data.error.message) return r.data.error.message;
    return "出错了（HTTP " + r.status + "）— 刷新页面再试一次";
  }
  /* a unified diff, one line per div, coloured by its first character */
  function diffView(text) {
    var box = el("div", "cl-diff");
    text.replace(/\n$/, "").split("\n").forEach(function (line) {
      var cls = "cl-diff-ctx";
      if (/^(\+\+\+|---) /.test(line)) cls = "cl-diff-file";
      else if (line.indexOf("@@") === 0) cls = "cl-diff-hunk";
      else if (line.charAt(0) === "+") cls = "cl-diff-add";
      else if (line.charAt(0) === "-") cls = "cl-diff-del";
      box.appendChild(el("div", "cl-diff-line " + cls, line || " "));
    });
    return box;
  }

  window.caselib = {
    base: base, api: api, ready: ready, signIn: signIn, signOut: signOut, can: can, ROLE_NAMES: ROLE_NAMES,
    el: el, when: when, errorText: errorText, diffView: diffView,
    get user() { return state.user; },
    onUser: function (fn) { listeners.push(fn); if (state.user !== null) fn(state.user); }
  };
})();
