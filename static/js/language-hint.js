// On an English page, a reader whose browser asks for Spanish first is shown
// the link to the same page in Spanish. The address alone decides the
// language, so nothing is redirected; without JavaScript the switcher in the
// header does the same job.
(function () {
  var hint = document.querySelector(".language-hint[data-language]");
  if (!hint) return;
  var preferred = (navigator.languages && navigator.languages[0]) || navigator.language || "";
  if (preferred.toLowerCase().split("-")[0] === hint.getAttribute("data-language")) {
    hint.hidden = false;
  }
})();
