// The print button of the backup codes page: shown only when this script runs (printing needs
// it); the print style sheet keeps only the codes. No inline script: the CSP allows this site's
// files only.
(function () {
  "use strict";
  var button = document.querySelector("[data-print-codes]");
  if (!button) { return; }
  button.parentNode.hidden = false;
  button.addEventListener("click", function () { window.print(); });
}());
