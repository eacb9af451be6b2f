// The live patrol board: counts down to each run's next checkpoint every second and reloads
// the rows every 10 seconds. Times come from data attributes in seconds since 1970; the
// server's clock (data-server-now) corrects a browser clock that is off.
(function () {
  "use strict";
  var board = document.getElementById("monitor-board");
  if (!board) return;
  var offset = 0;

  function syncClock(node) {
    var server = Number(node.getAttribute("data-server-now"));
    if (server) offset = server * 1000 - Date.now();
  }

  function format(seconds) {
    var left = Math.abs(seconds);
    var hours = Math.floor(left / 3600);
    var minutes = Math.floor((left % 3600) / 60);
    var rest = left % 60;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    var body = hours ? hours + ":" + pad(minutes) + ":" + pad(rest) : minutes + ":" + pad(rest);
    return (seconds < 0 ? "+" : "") + body;
  }

  function tick() {
    var now = Date.now() + offset;
    board.querySelectorAll("[data-due]").forEach(function (node) {
      var left = Math.floor((Number(node.getAttribute("data-due")) * 1000 - now) / 1000);
      var time = node.querySelector("time");
      if (time) time.textContent = format(left);
      node.classList.toggle("monitor-late", left < 0);
    });
  }

  function refresh() {
    fetch(board.getAttribute("data-refresh"), {credentials: "same-origin", headers: {"X-Requested-With": "fetch"}})
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) return;
        board.innerHTML = html;
        var table = board.querySelector("[data-server-now]");
        if (table) syncClock(table);
        tick();
      })
      .catch(function () { /* the next refresh tries again */ });
  }

  syncClock(board);
  tick();
  setInterval(tick, 1000);
  setInterval(refresh, 10000);
})();
