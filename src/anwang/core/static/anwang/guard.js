/* The guard's phone page, live: an EventSource on the live stream; an `alarm` message about an
 * alarm dispatched to this person (or one already on the page) reloads the list with htmx.
 * While the guard is typing a note or has picked a photo, the reload waits behind a button,
 * so nothing typed is lost. Without JavaScript the page still works; it just does not update
 * by itself. Reading the list: #guard-alarms carries data-live-url and data-user.
 */
(function () {
  "use strict";

  function list() { return document.getElementById("guard-alarms"); }

  function notice() { return document.querySelector("[data-guard-notice]"); }

  // Something the guard is in the middle of: text typed, a photo chosen, a field focused.
  function busy(root) {
    var fields = root.querySelectorAll("textarea, input[type=file]");
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      if (field.type === "file" ? field.files && field.files.length : field.value.trim()) return true;
    }
    var active = document.activeElement;
    return Boolean(active && root.contains(active) && /^(TEXTAREA|INPUT|SELECT)$/.test(active.tagName));
  }

  var forced = false;

  function refresh(force) {
    var root = list();
    if (!root || typeof htmx === "undefined") return;
    if (!force && busy(root)) {
      var box = notice();
      if (box) box.hidden = false;
      return;
    }
    var box2 = notice();
    if (box2) box2.hidden = true;
    forced = Boolean(force);
    htmx.trigger(root, "guard-refresh");
  }

  // The guard may start typing or pick a photo while a reload is on its way: then the new
  // list waits behind the button instead of replacing what they are doing.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var root = list();
    if (!root || event.detail.target !== root || forced) { forced = false; return; }
    if (busy(root)) {
      event.detail.shouldSwap = false;
      var box = notice();
      if (box) box.hidden = false;
    }
  });

  function concerns(data, root) {
    if (!data || data.id === undefined) return false;
    if (data.assignee !== null && data.assignee !== undefined &&
        String(data.assignee) === root.getAttribute("data-user")) return true;
    return Boolean(root.querySelector('[data-alarm="' + String(data.id) + '"]'));
  }

  function connect() {
    var root = list();
    if (!root || typeof EventSource === "undefined") return;
    var url = root.getAttribute("data-live-url");
    if (!url) return;
    // EventSource reconnects by itself and sends Last-Event-ID, so nothing is missed.
    var source = new EventSource(url);
    source.addEventListener("alarm", function (event) {
      var current = list();
      if (!current) return;
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (!concerns(data, current)) return;
      if (data.change === "dispatched" && String(data.assignee) === current.getAttribute("data-user") &&
          navigator.vibrate) {
        navigator.vibrate([200, 100, 200]);
      }
      refresh(false);
    });
    window.AnwangGuard = {source: source, refresh: refresh};
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-guard-refresh]");
    if (button) refresh(true);
  });

  // A reloaded list brings new maps with it.
  document.addEventListener("htmx:load", function () {
    if (window.AnwangMap) window.AnwangMap.init(document);
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", connect);
  } else {
    connect();
  }
})();
