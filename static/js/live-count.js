// Keeps the signature count current while the page is open: every 20 seconds,
// while the tab is visible, it asks our own /petitions/<slug>.json. Without
// script the page simply shows the count it was served with.
(function () {
  var panel = document.querySelector("[data-count-url]");
  if (!panel || !window.fetch) return;
  var url = panel.getAttribute("data-count-url");
  var every = parseInt(panel.getAttribute("data-count-every"), 10) || 20000;
  // The server's own grouping ("1,000" or "1.000"), so the number keeps its look.
  var separator = (panel.getAttribute("data-count-sample") || "1,000,000").replace(/\d/g, "");
  var timer = null;

  function format(number) {
    return String(number).replace(/\B(?=(\d{3})+(?!\d))/g, separator);
  }

  function show(data) {
    var count = data.signature_count;
    var number = panel.querySelector(".count-number");
    var bar = panel.querySelector("progress.signature-progress");
    if (typeof count !== "number" || !number) return;
    number.textContent = format(count);
    var word = panel.getAttribute(count === 1 ? "data-count-one" : "data-count-other");
    var label = number.nextSibling;
    if (word && label && label.nodeType === 3) label.nodeValue = " " + word;
    if (bar) {
      var goal = panel.querySelector(".petition-progress .small");
      if (goal && data.goal && String(data.goal) !== bar.getAttribute("max")) {
        goal.textContent = goal.textContent.replace(format(bar.getAttribute("max")), format(data.goal));
      }
      if (data.goal) bar.max = data.goal;
      bar.value = count;
      bar.textContent = count + " / " + bar.max;
    }
  }

  function refresh() {
    // "no-cache": the answer may be a few seconds old in a shared cache, but
    // the browser must not show the count it already has as news.
    fetch(url, { headers: { Accept: "application/json" }, credentials: "omit", cache: "no-cache" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data) show(data); })
      .catch(function () { /* Offline for a moment: the next tick tries again. */ });
  }

  function start() {
    if (timer === null) timer = window.setInterval(refresh, every);
  }

  function stop() {
    window.clearInterval(timer);
    timer = null;
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      stop();
    } else {
      refresh();
      start();
    }
  });
  if (!document.hidden) start();
})();
