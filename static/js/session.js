// Warns before the idle timeout ends the session, and lets the person extend it (RGAA 13.1).
// No inline script: the CSP allows scripts from this site only.
(function () {
  "use strict";
  var body = document.body;
  var idleSeconds = parseInt(body.getAttribute("data-session-idle-seconds") || "0", 10);
  var dialog = document.getElementById("session-warning");
  if (!idleSeconds || !dialog) { return; }
  var warnBefore = Math.min(120, Math.floor(idleSeconds / 3));
  var timer = null;

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function schedule() {
    window.clearTimeout(timer);
    timer = window.setTimeout(function () {
      dialog.hidden = false;
      var button = dialog.querySelector("button");
      if (button) { button.focus(); }
    }, (idleSeconds - warnBefore) * 1000);
  }

  dialog.querySelector("form").addEventListener("submit", function (event) {
    event.preventDefault();
    fetch(dialog.querySelector("form").action, {
      method: "POST",
      headers: {"X-CSRFToken": csrfToken()},
      credentials: "same-origin"
    }).then(function (response) {
      if (response.ok) { dialog.hidden = true; schedule(); }
    });
  });
  schedule();
}());
