/* The guard's patrol run on a phone, with or without signal.
 *
 * Check-ins are written to IndexedDB first (with the phone's time, the GPS position and a uuid
 * made here) and shown as "waiting to sync"; then they are sent to the API: at once, when the
 * phone comes back online, when the page loads, and every 30 seconds. The server is the judge:
 * only its answer turns a check-in into "accepted" or "refused". Sending the same check-in
 * again is harmless, the uuid makes the server find the first one.
 *
 * A service worker (/patrols/sw.js) keeps this page, its files and the run's data, so the page
 * also opens after a reload without signal; what was checked in since comes from IndexedDB.
 *
 * Codes are checked here only for typing mistakes (the check character); the checkpoint id they
 * carry names the checkpoint while offline. Whether a code is genuine only the server can say.
 */
(function () {
  "use strict";

  var root = document.getElementById("run");
  var dataNode = document.getElementById("run-data");
  if (!root || !dataNode) return;
  var data = JSON.parse(dataNode.textContent);
  var RUN = data.run;
  var SYNC_EVERY_MS = 30000;
  var POSITION_FRESH_MS = 120000;
  var REJECTIONS = ["malformed", "forged", "other_community", "reissued", "retired", "unknown_tag",
    "not_on_route", "duplicate", "before_start", "in_future", "run_closed"];

  function label(name) { return root.getAttribute("data-label-" + name) || ""; }
  function $(selector) { return root.querySelector(selector); }

  // ------------------------------------------------------------------ checkpoint codes
  var ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

  function normalise(text) {
    return String(text).replace(/\s+/g, "").replace(/-/g, "").toUpperCase()
      .replace(/O/g, "0").replace(/[IL]/g, "1");
  }

  function checkChar(body) {
    var factor = 2, total = 0;
    for (var i = body.length - 1; i >= 0; i--) {
      var addend = factor * ALPHABET.indexOf(body[i]);
      factor = factor === 2 ? 1 : 2;
      total += Math.floor(addend / 32) + (addend % 32);
    }
    return ALPHABET[(32 - (total % 32)) % 32];
  }

  function readVarint(bytes, start) {
    var number = 0, shift = 0, index = start;
    while (index < bytes.length && shift <= 35) {
      var byte = bytes[index++];
      number += (byte & 0x7f) * Math.pow(2, shift);
      if (!(byte & 0x80)) return {value: number, next: index};
      shift += 7;
    }
    return null;
  }

  /* The checkpoint id a code claims, or null when it is not a checkpoint code (as the
   * server's codes.decode, without the signature, which needs the server's key). */
  function decode(text) {
    var clean = normalise(text);
    if (clean.length < 8 || clean.length > 40) return null;
    for (var i = 0; i < clean.length; i++) if (ALPHABET.indexOf(clean[i]) < 0) return null;
    var body = clean.slice(0, -1);
    if (checkChar(body) !== clean[clean.length - 1]) return null;
    var size = Math.floor(body.length * 5 / 8);
    if (Math.ceil(size * 8 / 5) !== body.length) return null;
    var bits = [];
    for (var j = 0; j < body.length; j++) {
      var value = ALPHABET.indexOf(body[j]);
      for (var k = 4; k >= 0; k--) bits.push((value >> k) & 1);
    }
    var bytes = [];
    for (var b = 0; b < size; b++) {
      var byte = 0;
      for (var bit = 0; bit < 8; bit++) byte = (byte << 1) | bits[b * 8 + bit];
      bytes.push(byte);
    }
    var id = readVarint(bytes, 0);
    if (!id) return null;
    var version = readVarint(bytes, id.next);
    if (!version || bytes.length - version.next !== 5 || id.value < 1 || version.value < 1) return null;
    return id.value;
  }

  // ------------------------------------------------------------------ storage (IndexedDB)
  var dbPromise = null;

  function db() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        if (!window.indexedDB) { reject(new Error("no IndexedDB")); return; }
        var request = indexedDB.open("anwang-patrols", 1);
        request.onupgradeneeded = function () {
          var database = request.result;
          var store = database.createObjectStore("checkins", {keyPath: "client_id"});
          store.createIndex("run", "run");
          database.createObjectStore("sos", {keyPath: "id"});
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }
    return dbPromise;
  }

  function tx(store, mode, work) {
    return db().then(function (database) {
      return new Promise(function (resolve, reject) {
        var transaction = database.transaction(store, mode);
        var result = work(transaction.objectStore(store));
        transaction.oncomplete = function () { resolve(result && "result" in result ? result.result : undefined); };
        transaction.onerror = function () { reject(transaction.error); };
        transaction.onabort = function () { reject(transaction.error); };
      });
    });
  }

  function save(record) { return tx("checkins", "readwrite", function (s) { return s.put(record); }); }
  function localCheckIns() {
    return tx("checkins", "readonly", function (s) { return s.index("run").getAll(RUN); })
      .catch(function () { return []; });
  }
  function saveSos(record) { return tx("sos", "readwrite", function (s) { return s.put(record); }); }
  function dropSos(id) { return tx("sos", "readwrite", function (s) { return s.delete(id); }); }
  function pendingSos() {
    return tx("sos", "readonly", function (s) { return s.getAll(); }).catch(function () { return []; });
  }

  /* Check-ins the server has judged are kept a few days (the page shows them after a reload
   * without signal), then dropped; those still waiting are never dropped. */
  var KEEP_JUDGED_MS = 3 * 24 * 3600 * 1000;

  function purgeOld() {
    var limit = Date.now() - KEEP_JUDGED_MS;
    return tx("checkins", "readwrite", function (store) {
      var cursor = store.openCursor();
      cursor.onsuccess = function () {
        var current = cursor.result;
        if (!current) return;
        var record = current.value;
        if (record.state !== "pending" && (record.created || 0) < limit) current.delete();
        current.continue();
      };
      return null;
    }).catch(function () { return null; });
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  // ------------------------------------------------------------------ state and drawing
  var entries = [];  // every check-in of this run known here, server's and this phone's
  var needLogin = false;

  function nameOf(checkpoint) {
    for (var i = 0; i < data.plan.length; i++) {
      if (data.plan[i].checkpoint === checkpoint) return data.plan[i].name;
    }
    return label("unknown");
  }

  function load() {
    return localCheckIns().then(function (local) {
      var byId = {};
      data.check_ins.forEach(function (item) { byId[item.client_id] = item; });
      local.forEach(function (item) {
        var known = byId[item.client_id];
        if (!known) { byId[item.client_id] = item; return; }
        // The server's word stands: a local copy still pending was judged meanwhile.
        if (item.state === "pending") {
          item.state = known.state;
          item.message = known.message;
          item.far = known.far;
          if (known.checkpoint) item.checkpoint = known.checkpoint;
          save(item);
        }
      });
      entries = Object.keys(byId).map(function (key) { return byId[key]; });
      entries.sort(function (a, b) { return a.scanned_at < b.scanned_at ? -1 : a.scanned_at > b.scanned_at ? 1 : 0; });
    });
  }

  /* Each planned stop with the check-in covering it (accepted, or waiting to sync). */
  function progress() {
    var used = {};
    return data.plan.map(function (stop) {
      var found = null;
      for (var i = 0; i < entries.length; i++) {
        var entry = entries[i];
        if (used[entry.client_id] || entry.checkpoint !== stop.checkpoint) continue;
        if (entry.state !== "accepted" && entry.state !== "pending") continue;
        found = entry;
        used[entry.client_id] = true;
        break;
      }
      return {stop: stop, entry: found};
    });
  }

  function time(iso) {
    var date = new Date(iso);
    return date.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit", second: "2-digit"});
  }

  function render() {
    var rows = progress();
    var next = null, done = 0;
    rows.forEach(function (row) { if (row.entry) done++; else if (!next) next = row.stop; });
    var nextNode = $("[data-next]");
    if (nextNode) nextNode.textContent = next ? next.name : label("all-done");
    var progressNode = $("[data-progress]");
    if (progressNode) progressNode.textContent = done + " / " + data.plan.length;
    var list = $("[data-stops]");
    if (list) {
      list.textContent = "";
      rows.forEach(function (row) {
        var item = document.createElement("li");
        item.setAttribute("data-checkpoint", String(row.stop.checkpoint));
        item.textContent = row.stop.name;
        if (row.entry) {
          item.className = row.entry.state === "pending" ? "run-pending" : "run-done";
          var note = document.createElement("span");
          note.className = "run-state";
          note.textContent = " · " + time(row.entry.scanned_at) + " · " + label(row.entry.state);
          item.appendChild(note);
        } else if (row.stop === next) {
          item.className = "run-next-stop";
        }
        // The hazards app's report page, when there is one, starts from this checkpoint.
        if (data.urls.hazard_report) {
          var report = document.createElement("a");
          report.className = "run-hazard";
          report.setAttribute("data-testid", "report-hazard");
          report.href = data.urls.hazard_report + "?checkpoint=" + encodeURIComponent(row.stop.checkpoint);
          report.textContent = label("hazard");
          item.appendChild(document.createTextNode(" "));
          item.appendChild(report);
        }
        // Inspections planned at this checkpoint, offered once it is checked in.
        var inspectUrl = data.urls.inspect_at && data.urls.inspect_at[String(row.stop.checkpoint)];
        if (inspectUrl && row.entry) {
          var inspect = document.createElement("a");
          inspect.className = "run-inspect";
          inspect.setAttribute("data-testid", "inspect-here");
          inspect.href = inspectUrl;
          inspect.textContent = label("inspect");
          item.appendChild(document.createTextNode(" "));
          item.appendChild(inspect);
        }
        list.appendChild(item);
      });
    }
    var doneList = $("[data-done]");
    if (doneList) {
      doneList.textContent = "";
      entries.slice().reverse().forEach(function (entry) {
        var item = document.createElement("li");
        item.className = "run-entry run-" + entry.state;
        item.setAttribute("data-state", entry.state);
        item.setAttribute("data-client-id", entry.client_id);
        var text = time(entry.scanned_at) + " · " + nameOf(entry.checkpoint) + " · " + label(entry.state);
        if (entry.far) text += " · " + label("far");
        if (entry.message && entry.state !== "accepted") text += ": " + entry.message;
        item.textContent = text;
        doneList.appendChild(item);
      });
    }
    var waiting = entries.filter(function (e) { return e.state === "pending"; }).length;
    var queue = $("[data-queue]");
    if (queue) {
      queue.textContent = needLogin ? label("login")
        : waiting ? label("waiting") + " " + waiting : label("synced");
      queue.setAttribute("data-waiting", String(waiting));
    }
    var net = $("[data-net]");
    if (net) {
      net.textContent = navigator.onLine ? label("online") : label("offline");
      net.className = "run-net " + (navigator.onLine ? "run-online" : "run-offline");
    }
    root.setAttribute("data-waiting", String(waiting));
  }

  function say(text) {
    var node = $("[data-message]");
    if (node) node.textContent = text;
  }

  // ------------------------------------------------------------------ talking to the server
  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    // The same token htmx sends (base.html puts it on <body>), or a form's.
    try {
      var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
      if (headers["X-CSRFToken"]) return headers["X-CSRFToken"];
    } catch (e) { /* fall through */ }
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function post(url, body) {
    var headers = {"X-CSRFToken": csrfToken(), Accept: "application/json"};
    if (!(body instanceof FormData)) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(body);
    }
    return fetch(url, {method: "POST", credentials: "same-origin", headers: headers, body: body});
  }

  function loggedOut(response) {
    if (response.status === 401 || response.status === 403) {
      needLogin = true;
      return true;
    }
    return false;
  }

  function item(record) {
    return {
      code: record.code,
      client_id: record.client_id,
      scanned_at: record.scanned_at,
      method: record.method,
      latitude: record.latitude,
      longitude: record.longitude,
      accuracy: record.accuracy,
      note: record.note || ""
    };
  }

  function judged(record, state, message, checkIn) {
    record.state = state;
    record.message = message || "";
    if (checkIn) {
      record.far = Boolean(checkIn.far);
      if (checkIn.checkpoint) record.checkpoint = checkIn.checkpoint;
    }
    return save(record);
  }

  function sendBatch(records) {
    if (!records.length) return Promise.resolve();
    return post(data.urls.sync, {items: records.map(item), sent_at: new Date().toISOString()})
      .then(function (response) {
        if (loggedOut(response) || !response.ok) return null;
        needLogin = false;
        return response.json();
      }).then(function (results) {
        if (!results) return;
        var byId = {};
        records.forEach(function (r) { byId[r.client_id] = r; });
        return Promise.all(results.map(function (result) {
          var record = byId[result.client_id];
          if (!record) return null;
          return judged(record, result.result, result.message, result.check_in);
        }));
      });
  }

  function sendWithPhoto(record) {
    var form = new FormData();
    var fields = item(record);
    Object.keys(fields).forEach(function (key) {
      if (fields[key] !== null && fields[key] !== undefined) form.append(key, fields[key]);
    });
    form.append("sent_at", new Date().toISOString());
    form.append("photo", record.photo, record.photo_name || "photo.jpg");
    return post(data.urls.check_in, form).then(function (response) {
      if (loggedOut(response)) return null;
      needLogin = false;
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (response.ok) return judged(record, "accepted", "", body);
        if (REJECTIONS.indexOf(body.code) >= 0) return judged(record, "rejected", body.detail, null);
        if (response.status >= 500) return null;  // try again later
        return judged(record, "invalid", body.detail, null);
      });
    });
  }

  function sendSos() {
    return pendingSos().then(function (records) {
      return Promise.all(records.map(function (record) {
        return post(data.urls.sos, record.body).then(function (response) {
          if (response.ok) {
            sosSay(label("sos-sent"));
            return dropSos(record.id);
          }
          if (loggedOut(response)) return null;
          if (response.status < 500) {
            sosSay(label("sos-failed"));
            return dropSos(record.id);
          }
          return null;
        });
      }));
    });
  }

  var syncing = null;

  function sync() {
    if (syncing) return syncing;
    syncing = sendSos().catch(function () { return null; }).then(function () {
      return localCheckIns();
    }).then(function (local) {
      var pending = local.filter(function (r) { return r.state === "pending"; });
      var plain = pending.filter(function (r) { return !r.photo; });
      var withPhoto = pending.filter(function (r) { return r.photo; });
      return sendBatch(plain).then(function () {
        return withPhoto.reduce(function (chain, record) {
          return chain.then(function () { return sendWithPhoto(record); });
        }, Promise.resolve());
      });
    }).catch(function () {
      // No network: everything stays on the phone for the next try.
    }).then(function () {
      syncing = null;
      return load();
    }).then(render);
    return syncing;
  }

  // ------------------------------------------------------------------ position
  var position = null;

  function watchPosition() {
    var node = $("[data-gps]");
    if (!navigator.geolocation) { if (node) node.textContent = label("gps-none"); return; }
    navigator.geolocation.watchPosition(function (found) {
      position = {
        latitude: found.coords.latitude,
        longitude: found.coords.longitude,
        accuracy: found.coords.accuracy,
        at: Date.now()
      };
      if (node) node.textContent = label("gps") + " ±" + Math.round(found.coords.accuracy) + " m";
    }, function () {
      if (node) node.textContent = label("gps-none");
    }, {enableHighAccuracy: true, maximumAge: 30000, timeout: 20000});
  }

  function freshPosition() {
    return position && Date.now() - position.at < POSITION_FRESH_MS ? position : null;
  }

  // ------------------------------------------------------------------ checking in
  var form = root.querySelector("[data-check-in-form]");

  function byTag(tag) {
    var wanted = String(tag).trim().toUpperCase();
    for (var i = 0; i < data.plan.length; i++) {
      var known = String(data.plan[i].nfc || "").trim().toUpperCase();
      if (known && known === wanted) return data.plan[i].checkpoint;
    }
    return null;  // the server decides; it may be another checkpoint's tag
  }

  function checkIn(code, method) {
    var checkpoint = method === "nfc" ? byTag(code) : decode(code);
    if (checkpoint === null && method !== "nfc") {
      say(label("malformed"));
      return Promise.resolve();
    }
    var where = freshPosition();
    var note = form ? form.querySelector("textarea[name=note]") : null;
    var photo = form ? form.querySelector("input[name=photo]") : null;
    var file = photo && photo.files && photo.files[0] ? photo.files[0] : null;
    var record = {
      client_id: uuid(),
      run: RUN,
      code: String(code).trim(),
      method: method,
      scanned_at: new Date().toISOString(),
      latitude: where ? where.latitude : null,
      longitude: where ? where.longitude : null,
      accuracy: where ? where.accuracy : null,
      note: note ? note.value.trim() : "",
      photo: file,
      photo_name: file ? file.name : "",
      checkpoint: checkpoint,
      state: "pending",
      message: "",
      created: Date.now()
    };
    return save(record).then(function () {
      if (form) form.reset();
      say(label("checked") + " " + nameOf(checkpoint) + " (" + label("pending") + ")");
      return load();
    }).then(function () {
      render();
      return sync();
    });
  }

  if (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var input = form.querySelector("input[name=code]");
      checkIn(input.value, "typed");
    });
  }

  // The camera, where the browser can read QR codes itself (no remote script): the one
  // scanner of anwang/qr_scan.js, loaded before this file.
  function offerCamera() {
    if (!window.AnwangQrScan) return;
    window.AnwangQrScan.offer(root, function (text) { checkIn(text, "qr"); }, function () {
      say(label("camera-error"));
    });
  }

  // NFC tags, where the browser can read them (Web NFC, Chrome on Android).
  function offerNfc() {
    var button = $("[data-nfc]");
    if (!button || !("NDEFReader" in window)) return;
    button.hidden = false;
    var last = {tag: "", at: 0};
    button.addEventListener("click", function () {
      var reader = new window.NDEFReader();
      reader.scan().then(function () {
        say(label("nfc-ready"));
        reader.onreading = function (event) {
          // A tag held to the phone is read again and again: one check-in per tag and moment.
          if (event.serialNumber === last.tag && Date.now() - last.at < 10000) return;
          last = {tag: event.serialNumber, at: Date.now()};
          checkIn(event.serialNumber, "nfc");
        };
      }).catch(function () { say(label("nfc-error")); });
    });
  }

  // ------------------------------------------------------------------ finish
  var finishForm = root.querySelector("[data-finish-form]");
  if (finishForm) {
    finishForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!navigator.onLine) { say(label("finish-offline")); return; }
      var note = finishForm.querySelector("textarea[name=note]").value;
      sync().then(function () {
        return post(data.urls.finish, {note: note});
      }).then(function (response) {
        if (response.ok) { window.location.href = data.urls.detail; return null; }
        if (loggedOut(response)) { render(); return null; }
        return response.json().then(function (body) {
          say(label("finish-failed") + " " + (body.detail || response.status));
        });
      }).catch(function () { say(label("finish-offline")); });
    });
  }

  // ------------------------------------------------------------------ SOS
  function sosSay(text) {
    var node = $("[data-sos-status]");
    if (node) node.textContent = text;
  }

  var sosButton = $("[data-sos]");
  var sosConfirm = $("[data-sos-confirm]");
  if (sosButton && sosConfirm) {
    sosButton.addEventListener("click", function () { sosConfirm.hidden = false; sosButton.hidden = true; });
    $("[data-sos-cancel]").addEventListener("click", function () { sosConfirm.hidden = true; sosButton.hidden = false; });
    $("[data-sos-send]").addEventListener("click", function () {
      sosConfirm.hidden = true;
      sosButton.hidden = false;
      var where = position;
      var body = {patrol_run: RUN};
      if (where) {
        body.latitude = where.latitude;
        body.longitude = where.longitude;
        body.accuracy = where.accuracy;
        body.at = new Date(where.at).toISOString();
      }
      var record = {id: uuid(), body: body};
      saveSos(record).catch(function () { return null; }).then(function () {
        return post(data.urls.sos, body);
      }).then(function (response) {
        if (response.ok) { sosSay(label("sos-sent")); return dropSos(record.id); }
        if (loggedOut(response)) { sosSay(label("login")); return null; }
        sosSay(label("sos-failed"));
        return dropSos(record.id);
      }).catch(function () { sosSay(label("sos-queued")); });
    });
  }

  // ------------------------------------------------------------------ offline support
  function registerWorker() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.register(data.urls.sw, {scope: data.urls.sw.replace(/sw\.js$/, "")})
      .then(function () {
        if (!window.caches || !navigator.onLine) return null;
        // This first visit was not served through the worker: keep the page and data now.
        return caches.open(data.urls.cache).then(function (cache) {
          return Promise.all([window.location.pathname, data.urls.data, data.urls.list].concat(data.urls.assets)
            .map(function (url) { return cache.add(url).catch(function () { return null; }); }));
        });
      }).then(function () {
        root.setAttribute("data-offline-ready", "true");
      }).catch(function () { /* offline use is an extra; the page works online without it */ });
  }

  window.addEventListener("online", function () { render(); sync(); });
  window.addEventListener("offline", render);
  setInterval(function () { if (navigator.onLine) sync(); }, SYNC_EVERY_MS);

  offerCamera();
  offerNfc();
  watchPosition();
  registerWorker();
  purgeOld().then(load).then(render).then(function () {
    if (navigator.onLine) return sync();
    return null;
  });
  window.AnwangPatrolRun = {sync: sync, decode: decode};
})();
