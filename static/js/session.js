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

  var form = dialog.querySelector("form");
  var ended = dialog.querySelector(".session-ended");
  var endTimer = null;

  // The server ended the session (timeout reached, or it answered with a redirect to the login
  // page): say so, and offer the login page rather than pretending to have extended it.
  function showEnded() {
    window.clearTimeout(timer);
    window.clearTimeout(endTimer);
    dialog.hidden = false;
    form.hidden = true;
    ended.hidden = false;
    ended.querySelector("a").focus();
  }

  function schedule() {
    window.clearTimeout(timer);
    window.clearTimeout(endTimer);
    timer = window.setTimeout(function () {
      dialog.hidden = false;
      form.querySelector("button").focus();
    }, (idleSeconds - warnBefore) * 1000);
    endTimer = window.setTimeout(showEnded, idleSeconds * 1000);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    // "manual": a redirect (to the login page, once the session is gone) is not a success.
    fetch(form.action, {
      method: "POST",
      headers: {"X-CSRFToken": csrfToken()},
      credentials: "same-origin",
      redirect: "manual"
    }).then(function (response) {
      if (response.status === 204) { dialog.hidden = true; schedule(); } else { showEnded(); }
    }, showEnded);
  });
  schedule();
}());
