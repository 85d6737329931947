/* 登录页：POST /api/login，成功后回到 ?next= 指向的页面（只接受本站路径）。
   Runs on DOMContentLoaded: the theme loads caselib-auth.js (extra_javascript) after the
   page's own scripts. The form is method=post, so even without script no password lands in a URL. */
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var form = document.getElementById("cl-login-form");
  if (!form) return;
  var status = document.getElementById("cl-login-status");
  var next = new URLSearchParams(location.search).get("next") || "";
  if (!/^\/(?!\/)/.test(next)) next = window.caselib.base + "write/index.html";
  window.caselib.ready.then(function () {
    if (window.caselib.user) status.textContent = "已登录为 " + window.caselib.user.display_name + "。";
  });
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    status.textContent = "正在登录…";
    window.caselib.signIn(document.getElementById("cl-login-user").value.trim(),
                          document.getElementById("cl-login-pass").value).then(function (r) {
      if (r.ok) { status.textContent = "登录成功，正在跳转…"; location.href = next; return; }
      status.textContent = (r.data && r.data.error) ? r.data.error.message : "登录失败（HTTP " + r.status + "）";
    });
  });
});
