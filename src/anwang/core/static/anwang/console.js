/* The operator console, kept live. The page arrives complete from the server (queue, health,
 * the selected alarm); this script
 *   - counts the response times down every second (red once missed), on the server's clock;
 *   - listens to the Server-Sent Events stream (data-stream-url): "alarm" messages refresh or
 *     remove one queue row (the row is rendered by the server, so titles stay translated),
 *     "device" messages recolour a device on the map, "health" and "hello" set the red banner;
 *     a lost connection shows its own red banner while EventSource reconnects (with
 *     Last-Event-ID), and every "hello" reloads the queue so nothing between page load and
 *     (re)connection is missed;
 *   - highlights the selected alarm's device and zone on the map (drawn by map.js) and colours
 *     devices online / offline / alarming (a device with an open alarm in the queue);
 *   - sounds P1 alarms until they are acknowledged, once "Start duty" has unlocked audio
 *     (browsers block sound until a person clicks).
 * Text comes from the JSON in #console-labels, translated on the server.
 */
(function () {
  "use strict";

  var root = document.getElementById("console");
  if (!root) return;
  var labels = {};
  try { labels = JSON.parse(document.getElementById("console-labels").textContent); } catch (e) { labels = {}; }

  var communityId = Number(root.getAttribute("data-community"));
  var queue = document.getElementById("console-queue");
  var detail = document.getElementById("console-detail");
  var healthBanner = document.getElementById("console-health");
  var connectionBanner = document.getElementById("console-connection");
  var countNode = root.querySelector("[data-queue-count]");
  var calm = root.querySelector("[data-empty-calm]");
  var unhealthy = root.querySelector("[data-empty-unhealthy]");
  var clockOffset = Number(root.getAttribute("data-server-now")) - Date.now();
  var CLOSED = ["resolved", "false_alarm"];

  var healthOk = healthBanner ? healthBanner.getAttribute("data-health-ok") === "true" : true;
  var connected = true;
  var selectedId = null;

  function serverNow() { return Date.now() + clockOffset; }

  function urlFor(attribute, id) {
    return root.getAttribute(attribute).replace("/0/", "/" + id + "/");
  }

  function get(url) {
    return fetch(url, {credentials: "same-origin", headers: {"X-Requested-With": "fetch"}});
  }

  // ------------------------------------------------------------------ countdowns
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
    var now = serverNow();
    document.querySelectorAll("[data-countdown][data-due]").forEach(function (node) {
      var left = Math.floor((Number(node.getAttribute("data-due")) * 1000 - now) / 1000);
      var time = node.querySelector("time");
      if (time) time.textContent = format(left);
      node.classList.toggle("breached", left < 0);
      if (left < 0) node.setAttribute("title", labels.overdue || "");
    });
  }

  // ------------------------------------------------------------------ the queue
  function rows() { return Array.prototype.slice.call(queue.querySelectorAll(".console-alarm")); }

  function rowFor(id) { return queue.querySelector('.console-alarm[data-alarm-id="' + id + '"]'); }

  // The server's order: most urgent first, then oldest first.
  function sortKey(row) {
    return [
      Number(row.getAttribute("data-priority")),
      Number(row.getAttribute("data-raised")), // microseconds since 1970
      Number(row.getAttribute("data-alarm-id"))
    ];
  }

  function comesBefore(a, b) {
    var ka = sortKey(a), kb = sortKey(b);
    for (var i = 0; i < ka.length; i++) {
      if (ka[i] !== kb[i]) return ka[i] < kb[i];
    }
    return false;
  }

  function place(row) {
    var next = rows().filter(function (other) { return comesBefore(row, other); })[0];
    queue.insertBefore(row, next || null);
  }

  function parseRow(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  function markSelected() {
    rows().forEach(function (row) {
      var on = Number(row.getAttribute("data-alarm-id")) === selectedId;
      row.classList.toggle("selected", on);
      var link = row.querySelector(".console-alarm-link");
      if (link) {
        if (on) link.setAttribute("aria-current", "true"); else link.removeAttribute("aria-current");
      }
    });
  }

  function queueChanged() {
    var count = rows().length;
    if (countNode) countNode.textContent = String(count);
    var fine = healthOk && connected;
    if (calm) calm.hidden = count > 0 || !fine;
    if (unhealthy) unhealthy.hidden = count > 0 || fine;
    markSelected();
    recolourDevices();
    tick();
    sound.update();
  }

  // Each row refresh has a number; an older answer arriving late is dropped.
  var rowRequests = {};

  function refreshRow(id) {
    var ticket = (rowRequests[id] || 0) + 1;
    rowRequests[id] = ticket;
    var url = urlFor("data-row-url", id) + "?community=" + communityId;
    return get(url).then(function (response) {
      if (rowRequests[id] !== ticket) return;
      if (response.status === 204 || response.status === 404) { removeRow(id); return; }
      if (!response.ok) return;
      return response.text().then(function (html) {
        if (rowRequests[id] !== ticket) return;
        var row = parseRow(html);
        if (!row) return;
        var old = rowFor(id);
        if (old) old.remove();
        place(row);
        if (selectedId === null) select(id, false);
        queueChanged();
      });
    }).catch(function () { /* the next message or reconnection catches up */ });
  }

  function removeRow(id) {
    // A refresh still on its way must not bring the row back.
    rowRequests[id] = (rowRequests[id] || 0) + 1;
    var row = rowFor(id);
    if (row) row.remove();
    queueChanged();
  }

  function refreshQueue() {
    return get(root.getAttribute("data-queue-url")).then(function (response) {
      if (!response.ok) return;
      return response.text().then(function (html) {
        queue.innerHTML = html;
        rowRequests = {};
        if (selectedId === null && rows().length) {
          select(Number(rows()[0].getAttribute("data-alarm-id")), false);
        }
        queueChanged();
      });
    }).catch(function () { /* shown by the connection banner */ });
  }

  // ------------------------------------------------------------------ the selected alarm
  function panel() { return detail.querySelector(".console-panel"); }

  function panelShown() {
    var shown = panel();
    selectedId = shown ? Number(shown.getAttribute("data-alarm-id")) : selectedId;
    if (window.htmx) window.htmx.process(detail);
    markSelected();
    tick();
    highlight();
  }

  function loadPanel(id) {
    return get(urlFor("data-panel-url", id)).then(function (response) {
      if (selectedId !== id) return;
      if (!response.ok) {
        detail.textContent = "";
        var note = document.createElement("p");
        note.className = "console-panel-empty";
        note.textContent = labels.load_failed || "";
        detail.appendChild(note);
        return;
      }
      return response.text().then(function (html) {
        if (selectedId !== id) return;
        detail.innerHTML = html;
        panelShown();
      });
    }).catch(function () { /* keep what is shown */ });
  }

  function select(id, remember) {
    selectedId = id;
    markSelected();
    loadPanel(id);
    if (remember !== false && window.history && window.history.replaceState) {
      window.history.replaceState(null, "", "?community=" + communityId + "&alarm=" + id);
    }
  }

  queue.addEventListener("click", function (event) {
    var link = event.target.closest(".console-alarm-link");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    var row = link.closest(".console-alarm");
    select(Number(row.getAttribute("data-alarm-id")));
  });

  // An action answered (htmx swapped the panel): the row changes at once, before the stream.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target !== detail) return;
    panelShown();
    var shown = panel();
    if (shown) refreshRow(Number(shown.getAttribute("data-alarm-id")));
  });

  // ------------------------------------------------------------------ health and connection
  function setHealth(ok, problems) {
    healthOk = Boolean(ok);
    if (healthBanner) {
      healthBanner.hidden = healthOk;
      healthBanner.setAttribute("data-health-ok", healthOk ? "true" : "false");
      var list = healthBanner.querySelector("[data-health-problems]");
      if (list) {
        list.textContent = "";
        (problems || []).forEach(function (problem) {
          var item = document.createElement("li");
          item.textContent = String(problem);
          list.appendChild(item);
        });
      }
    }
    queueChanged();
  }

  function setConnected(on) {
    connected = on;
    if (connectionBanner) {
      connectionBanner.hidden = on;
      var text = connectionBanner.querySelector("[data-connection-text]");
      if (text) text.textContent = labels.connection_lost || "";
    }
    root.setAttribute("data-connected", on ? "true" : "false");
    queueChanged();
  }

  // ------------------------------------------------------------------ the map
  var COLOURS = {online: "#1e6b35", offline: "#8a5300", alarming: "#b42318", unknown: "#4a5568"};
  var SELECTED = "#f5b800";
  var mapNode = document.getElementById("console-map");
  var devices = {}; // id -> {layer, status}
  var zones = {};   // id -> {layer, style}
  var selectedZone = null;

  function indexMap() {
    var map = mapNode && mapNode.anwangMap;
    if (!map) return;
    map.eachLayer(function (layer) {
      var props = layer.feature && layer.feature.properties;
      if (!props) return;
      if (props.kind === "device") {
        devices[props.id] = {layer: layer, status: props.status};
      } else if (props.kind === "zone") {
        var o = layer.options || {};
        zones[props.id] = {
          layer: layer,
          style: {color: o.color, weight: o.weight, fillColor: o.fillColor, fillOpacity: o.fillOpacity, opacity: o.opacity}
        };
      }
    });
    mapNode.setAttribute("data-console-ready", "true");
    recolourDevices();
    highlight();
  }

  function alarmingDevices() {
    var found = {};
    rows().forEach(function (row) {
      var device = row.getAttribute("data-device");
      if (device) found[device] = true;
    });
    return found;
  }

  function selectedDevice() {
    var shown = panel();
    return shown ? shown.getAttribute("data-device") : "";
  }

  function recolourDevices() {
    var alarming = alarmingDevices();
    var chosen = selectedDevice();
    Object.keys(devices).forEach(function (id) {
      var entry = devices[id];
      var state = alarming[id] ? "alarming" : (COLOURS[entry.status] ? entry.status : "unknown");
      var isSelected = String(id) === chosen;
      entry.layer.setStyle({
        fillColor: COLOURS[state],
        color: isSelected ? SELECTED : "#ffffff",
        weight: isSelected ? 4 : 2,
        radius: isSelected ? 11 : (state === "alarming" ? 9 : 6)
      });
      var element = entry.layer.getElement && entry.layer.getElement();
      if (element) {
        ["online", "offline", "alarming", "unknown"].forEach(function (name) {
          element.classList.toggle("map-device-" + name, name === state);
        });
        element.setAttribute("data-device-id", String(id));
        element.setAttribute("data-device-state", state);
        element.classList.toggle("map-device-selected", isSelected);
      }
    });
  }

  function highlight() {
    var map = mapNode && mapNode.anwangMap;
    if (!map) return;
    recolourDevices();
    if (selectedZone) {
      selectedZone.layer.setStyle(selectedZone.style);
      selectedZone = null;
    }
    var shown = panel();
    if (!shown) return;
    var zone = zones[shown.getAttribute("data-zone")];
    if (zone) {
      zone.layer.setStyle({color: SELECTED, weight: 5, fillColor: SELECTED, fillOpacity: 0.3, opacity: 1});
      zone.layer.bringToFront();
      selectedZone = zone;
    }
    var device = devices[shown.getAttribute("data-device")];
    if (device) {
      var where = device.layer.getLatLng();
      if (!map.getBounds().contains(where)) map.panTo(where);
    } else if (zone && zone.layer.getBounds) {
      var bounds = zone.layer.getBounds();
      if (bounds.isValid() && !map.getBounds().intersects(bounds)) map.fitBounds(bounds, {maxZoom: 19});
    }
  }

  if (mapNode) {
    if (mapNode.getAttribute("data-loaded") === "true") {
      indexMap();
    } else {
      new MutationObserver(function (changes, observer) {
        if (mapNode.getAttribute("data-loaded") === "true") {
          observer.disconnect();
          indexMap();
        }
      }).observe(mapNode, {attributes: true, attributeFilter: ["data-loaded"]});
    }
  }

  // ------------------------------------------------------------------ sound
  var sound = (function () {
    var context = null;
    var status = document.querySelector("[data-sound-status]");
    var button = document.querySelector("[data-start-duty]");
    var KEY = "anwang-console-duty";

    function running() { return Boolean(context) && context.state === "running"; }

    function show() {
      var on = running();
      if (status) {
        status.setAttribute("data-locked", on ? "false" : "true");
        status.textContent = on ? (labels.sound_on || "") : (labels.sound_locked || "");
      }
      if (button) button.hidden = on;
    }

    function tone(at, frequency) {
      var oscillator = context.createOscillator();
      var gain = context.createGain();
      oscillator.type = "square";
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.25, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.35);
      oscillator.connect(gain);
      gain.connect(context.destination);
      oscillator.start(at);
      oscillator.stop(at + 0.4);
    }

    function pending() {
      return Boolean(queue.querySelector('.console-alarm[data-priority="1"][data-state="raised"]'));
    }

    function update() {
      root.setAttribute("data-sounding", pending() && running() ? "true" : "false");
      // A P1 waits and nobody can hear it: say so loudly.
      if (status) status.classList.toggle("urgent", pending() && !running());
    }

    function beep() {
      update();
      if (!running() || !pending()) return;
      var at = context.currentTime + 0.02;
      tone(at, 880);
      tone(at + 0.45, 660);
    }

    function unlock() {
      var Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) return;
      if (!context) {
        context = new Context();
        context.addEventListener("statechange", show);
      }
      context.resume().then(function () {
        show();
        if (running()) {
          try { window.sessionStorage.setItem(KEY, "1"); } catch (e) { /* private mode */ }
          beep();
        }
      }).catch(show);
    }

    if (button) button.addEventListener("click", unlock);
    // On duty earlier in this browser session: any click on the page unlocks the sound again.
    var onDuty = false;
    try { onDuty = window.sessionStorage.getItem(KEY) === "1"; } catch (e) { onDuty = false; }
    if (onDuty) {
      document.addEventListener("pointerdown", function again() {
        if (!running()) unlock();
        if (running()) document.removeEventListener("pointerdown", again);
      });
    }
    setInterval(beep, 2000);
    show();
    return {update: update};
  })();

  // ------------------------------------------------------------------ the live stream
  function parse(text) {
    try { return JSON.parse(text); } catch (e) { return null; }
  }

  function onAlarm(data) {
    if (!data || Number(data.community) !== communityId) return;
    var id = Number(data.id);
    if (CLOSED.indexOf(data.state) >= 0) removeRow(id); else refreshRow(id);
    // The panel shows someone else's change too, but is not reloaded under a person typing
    // a reason when nothing about the alarm's state changed.
    var shown = panel();
    if (shown && Number(shown.getAttribute("data-alarm-id")) === id &&
        shown.getAttribute("data-state") !== data.state) {
      loadPanel(id);
    }
  }

  function onDevice(data) {
    if (!data || Number(data.community) !== communityId) return;
    var entry = devices[data.id];
    if (!entry) return;
    if (data.status) entry.status = data.status;
    recolourDevices();
  }

  var retry = null;

  function connect() {
    if (!window.EventSource) return;
    var source = new EventSource(root.getAttribute("data-stream-url"));
    source.addEventListener("open", function () { setConnected(true); });
    source.addEventListener("error", function () {
      setConnected(false);
      // EventSource retries by itself unless the server refused outright; then we retry.
      if (source.readyState === EventSource.CLOSED && !retry) {
        retry = setTimeout(function () { retry = null; connect(); }, 3000);
      }
    });
    source.addEventListener("hello", function (event) {
      var data = parse(event.data);
      setConnected(true);
      if (data && data.health) setHealth(data.health.ok, data.health.problems);
      refreshQueue();
    });
    source.addEventListener("alarm", function (event) { onAlarm(parse(event.data)); });
    source.addEventListener("device", function (event) { onDevice(parse(event.data)); });
    source.addEventListener("health", function (event) {
      var data = parse(event.data);
      if (data) setHealth(data.ok, data.problems);
    });
  }

  var first = panel();
  if (first) selectedId = Number(first.getAttribute("data-alarm-id"));
  setInterval(tick, 1000);
  queueChanged();
  connect();
})();
