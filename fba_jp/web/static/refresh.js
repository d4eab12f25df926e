// Partial refresh, htmx-style and dependency-free: an element with data-refresh="URL" has its content
// replaced by the HTML fragment at URL every data-refresh-seconds seconds (default 10), while the
// tab is visible. A failed fetch keeps the last content and says so.
(function () {
  function start(el) {
    var seconds = parseInt(el.getAttribute("data-refresh-seconds") || "10", 10);
    function tick() {
      if (document.hidden) return;
      fetch(el.getAttribute("data-refresh"), {headers: {"Accept": "text/html"}, credentials: "same-origin"})
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
        .then(function (html) { el.innerHTML = html; el.setAttribute("data-refreshed", new Date().toISOString()); })
        .catch(function (e) { el.setAttribute("data-refresh-error", String(e)); });
    }
    setInterval(tick, Math.max(seconds, 1) * 1000);
    document.addEventListener("visibilitychange", tick);
  }
  document.querySelectorAll("[data-refresh]").forEach(start);
})();
