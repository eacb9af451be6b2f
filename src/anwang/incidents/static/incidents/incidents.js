/* Incident pages, kept live. The pages arrive complete from the server; this script
 *   - counts each open task's time down every second from the seconds left the server gave
 *     (so a wrong clock on the phone does not matter), turning it and its task red once late;
 *   - counts the time since the incident was declared;
 *   - tells htmx whether the task list may be refreshed (not while someone is typing a note or
 *     choosing a person in it, so nothing typed is lost);
 *   - on the declare form, reloads the page for another community's zones and people, and
 *     shows the participants only for a drill.
 * Text comes from the JSON in #incident-labels, translated on the server.
 */
(function () {
  "use strict";

  var labels = {};
  var labelNode = document.getElementById("incident-labels");
  if (labelNode) {
    try { labels = JSON.parse(labelNode.textContent); } catch (e) { labels = {}; }
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function clock(seconds) {
    var left = Math.abs(seconds);
    var hours = Math.floor(left / 3600);
    var minutes = Math.floor((left % 3600) / 60);
    var rest = left % 60;
    return hours ? hours + ":" + pad(minutes) + ":" + pad(rest) : minutes + ":" + pad(rest);
  }

  // ------------------------------------------------------------------ task timers
  function tickTimers(now) {
    document.querySelectorAll("[data-countdown][data-seconds-left]").forEach(function (node) {
      // Anchored when first seen: a list swapped in by htmx brings fresh seconds.
      if (node.anwangDue === undefined) {
        node.anwangDue = now + Number(node.getAttribute("data-seconds-left")) * 1000;
      }
      var left = Math.round((node.anwangDue - now) / 1000);
      var late = left < 0;
      var time = node.querySelector("time");
      if (time) time.textContent = (late ? "+" : "") + clock(left);
      var label = node.querySelector("[data-countdown-label]");
      if (label) label.textContent = late ? (labels.late || "") : (labels.due || "");
      node.classList.toggle("breached", late);
      var task = node.closest(".incident-task");
      if (task) task.classList.toggle("late", late);
    });
  }

  // ------------------------------------------------------------------ time since declared
  var loadedAt = Date.now();

  function tickElapsed(now) {
    document.querySelectorAll(".incident-elapsed[data-running]").forEach(function (node) {
      var seconds = Number(node.getAttribute("data-elapsed")) + Math.floor((now - loadedAt) / 1000);
      node.textContent = clock(seconds);
    });
  }

  function tick() {
    var now = Date.now();
    tickTimers(now);
    tickElapsed(now);
  }

  // ------------------------------------------------------------------ quiet refreshes
  window.incidentTasksIdle = function () {
    var root = document.getElementById("incident-tasks");
    if (!root) return false;
    var active = document.activeElement;
    if (active && root.contains(active) && /^(TEXTAREA|INPUT|SELECT)$/.test(active.tagName)) return false;
    if (root.querySelector("details.incident-reassign[open]")) return false;
    var typed = Array.prototype.some.call(root.querySelectorAll("input[type=text]"), function (field) {
      return field.value.trim() !== "";
    });
    return !typed;
  };

  // ------------------------------------------------------------------ declare form
  function setUpDeclareForm() {
    var form = document.querySelector("[data-testid=declare-form]");
    if (!form) return;
    var community = form.querySelector("[data-reload-on-change] select");
    if (community) {
      community.addEventListener("change", function () {
        var params = new URLSearchParams(window.location.search);
        params.set("community", community.value);
        window.location.search = params.toString();
      });
    }
    var drill = form.querySelector("input[name=is_drill]");
    var participants = form.querySelector("[data-drill-only]");
    if (drill && participants) {
      var show = function () { participants.hidden = !drill.checked; };
      drill.addEventListener("change", show);
      show();
    }
  }

  setUpDeclareForm();
  tick();
  setInterval(tick, 1000);
  document.addEventListener("htmx:afterSwap", tick);
})();
