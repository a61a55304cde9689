// gantry dashboard: keeps the page's <main> current without a reload.
// The server says `changed` on /events (server-sent events) whenever a
// package, promotion or approval is recorded; the page then fetches
// itself again (with its query: the DORA page's environment and window)
// and swaps <main>. Without an event stream it polls.
(function () {
  "use strict";
  var busy = false;
  function refresh() {
    if (busy) { return; }
    busy = true;
    fetch(location.pathname + location.search, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (text) {
        if (text === null) { return; }
        var doc = new DOMParser().parseFromString(text, "text/html");
        var fresh = doc.getElementById("main");
        var main = document.getElementById("main");
        if (fresh && main && fresh.innerHTML !== main.innerHTML) {
          main.innerHTML = fresh.innerHTML;
          document.documentElement.setAttribute("data-refreshed", String(Date.now()));
        }
      })
      .catch(function () {})
      .then(function () { busy = false; });
  }
  var polling = null;
  function poll() {
    if (polling === null) { polling = setInterval(refresh, 10000); }
  }
  if (window.EventSource) {
    var events = new EventSource("/events");
    events.addEventListener("changed", refresh);
    events.addEventListener("open", function () { document.documentElement.setAttribute("data-live", "sse"); });
    events.onerror = function () { poll(); };
  } else {
    poll();
  }
  // Runs are recorded by other processes: look again now and then.
  setInterval(refresh, 30000);
})();
