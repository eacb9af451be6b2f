/* Anwang maps, on the vendored Leaflet. No base map unless one is configured, so every map
 * works offline: shapes are drawn on a plain background.
 *
 * Stored coordinates are WGS84. When a tile server is configured (ANWANG_MAP_TILE_URL) with a
 * Chinese coordinate system (ANWANG_MAP_TILE_CRS = gcj02 or bd09), shapes are shifted into that
 * system for drawing and clicks are shifted back before they are stored; the formulas mirror
 * anwang/core/geo.py.
 *
 * Elements opt in with data-anwang-map:
 *   "features"  a community map: loads GeoJSON from data-geojson-url; legend checkboxes with
 *               data-layer-toggle="community|buildings|zones|key_areas" and data-map="<map id>"
 *               switch layers. With data-devices-url it also loads device points (layer
 *               "devices", circle markers coloured by status; devices without a position are
 *               not in that GeoJSON). When drawn it sets data-loaded="true", data-feature-count
 *               (shapes and devices) and data-device-count.
 *   "shape"     one geometry from the <script type="application/json"> element whose id is in
 *               data-geometry-id, over the faded shapes of data-context-url (optional).
 *   "editor"    a click-to-draw editor writing GeoJSON into the textarea whose id is in
 *               data-input; buttons with data-editor-action="undo|clear", radio inputs with
 *               data-editor-mode="polygon|line|point", and a data-editor-status element.
 * Text shown to people comes from data-*-label attributes, so it is translated on the server.
 */
(function () {
  "use strict";

  // ------------------------------------------------------------------ coordinate systems
  var GCJ_A = 6378245.0;
  var GCJ_EE = 0.00669342162296594323;
  var BD_X_PI = Math.PI * 3000.0 / 180.0;

  function outOfChina(lon, lat) {
    return !(lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271);
  }

  function gcjDeltaLat(x, y) {
    var v = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    v += (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2 / 3;
    v += (20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin(y / 3.0 * Math.PI)) * 2 / 3;
    v += (160.0 * Math.sin(y / 12.0 * Math.PI) + 320.0 * Math.sin(y * Math.PI / 30.0)) * 2 / 3;
    return v;
  }

  function gcjDeltaLon(x, y) {
    var v = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    v += (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2 / 3;
    v += (20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin(x / 3.0 * Math.PI)) * 2 / 3;
    v += (150.0 * Math.sin(x / 12.0 * Math.PI) + 300.0 * Math.sin(x / 30.0 * Math.PI)) * 2 / 3;
    return v;
  }

  function wgs84ToGcj02(lon, lat) {
    if (outOfChina(lon, lat)) return [lon, lat];
    var dLat = gcjDeltaLat(lon - 105.0, lat - 35.0);
    var dLon = gcjDeltaLon(lon - 105.0, lat - 35.0);
    var radLat = lat / 180.0 * Math.PI;
    var magic = 1 - GCJ_EE * Math.sin(radLat) * Math.sin(radLat);
    var sqrtMagic = Math.sqrt(magic);
    dLat = (dLat * 180.0) / ((GCJ_A * (1 - GCJ_EE)) / (magic * sqrtMagic) * Math.PI);
    dLon = (dLon * 180.0) / (GCJ_A / sqrtMagic * Math.cos(radLat) * Math.PI);
    return [lon + dLon, lat + dLat];
  }

  function gcj02ToBd09(lon, lat) {
    var z = Math.sqrt(lon * lon + lat * lat) + 0.00002 * Math.sin(lat * BD_X_PI);
    var theta = Math.atan2(lat, lon) + 0.000003 * Math.cos(lon * BD_X_PI);
    return [z * Math.cos(theta) + 0.0065, z * Math.sin(theta) + 0.006];
  }

  function wgs84ToBd09(lon, lat) {
    var g = wgs84ToGcj02(lon, lat);
    return gcj02ToBd09(g[0], g[1]);
  }

  // Solve forward(w) = p by fixed-point iteration (the shifts are small and smooth).
  function invert(forward, lon, lat) {
    var w = [lon, lat];
    for (var i = 0; i < 30; i++) {
      var f = forward(w[0], w[1]);
      var dLon = f[0] - lon, dLat = f[1] - lat;
      w = [w[0] - dLon, w[1] - dLat];
      if (Math.abs(dLon) < 1e-10 && Math.abs(dLat) < 1e-10) break;
    }
    return w;
  }

  function gcj02ToWgs84(lon, lat) {
    return outOfChina(lon, lat) ? [lon, lat] : invert(wgs84ToGcj02, lon, lat);
  }

  function bd09ToWgs84(lon, lat) {
    return invert(wgs84ToBd09, lon, lat);
  }

  var TO_DISPLAY = {
    wgs84: function (lon, lat) { return [lon, lat]; },
    gcj02: wgs84ToGcj02,
    bd09: wgs84ToBd09
  };
  var FROM_DISPLAY = {
    wgs84: function (lon, lat) { return [lon, lat]; },
    gcj02: gcj02ToWgs84,
    bd09: bd09ToWgs84
  };

  // ------------------------------------------------------------------ helpers
  var COLOURS = {
    community: "#4a5568",
    building: "#0b5cad",
    zone: "#1e6b35",
    key: "#b42318"
  };
  var DEVICE_COLOURS = {
    online: "#1e6b35",
    offline: "#b42318",
    unknown: "#4a5568"
  };

  function round7(value) {
    return Math.round(value * 1e7) / 1e7;
  }

  function parseCenter(text) {
    if (!text) return null;
    var parts = text.split(",").map(Number);
    if (parts.length !== 2 || isNaN(parts[0]) || isNaN(parts[1])) return null;
    return parts; // [lon, lat]
  }

  /* A Leaflet map in `container`, configured from the data attributes of `root`. */
  function makeMap(container, root) {
    var tileUrl = root.getAttribute("data-tile-url") || "";
    var crs = tileUrl ? (root.getAttribute("data-tile-crs") || "wgs84") : "wgs84";
    if (!TO_DISPLAY[crs]) crs = "wgs84";
    var map = L.map(container, {
      zoomSnap: 0.25,
      maxZoom: tileUrl ? 19 : 22,
      attributionControl: Boolean(tileUrl)
    });
    if (tileUrl) {
      L.tileLayer(tileUrl, {maxZoom: 19, maxNativeZoom: 18}).addTo(map);
    }
    var toDisplay = TO_DISPLAY[crs];
    var fromDisplay = FROM_DISPLAY[crs];
    return {
      map: map,
      crs: crs,
      toLatLng: function (lon, lat) {
        var p = toDisplay(lon, lat);
        return L.latLng(p[1], p[0]);
      },
      fromLatLng: function (latlng) {
        var p = fromDisplay(latlng.lng, latlng.lat);
        return [round7(p[0]), round7(p[1])];
      },
      center: parseCenter(root.getAttribute("data-center"))
    };
  }

  function styleFor(props, faded) {
    var kind = (props && props.kind) || "zone";
    var colour = kind === "building" ? COLOURS.building
      : kind === "community" ? COLOURS.community
      : props.is_key_area ? COLOURS.key : COLOURS.zone;
    return {
      color: colour,
      weight: kind === "community" ? 2 : (props.is_key_area ? 3 : 2),
      dashArray: kind === "community" ? "6 6" : null,
      fillColor: colour,
      fillOpacity: faded ? 0.08 : (kind === "community" ? 0 : (props.is_key_area ? 0.3 : 0.2)),
      opacity: faded ? 0.45 : 0.9
    };
  }

  function popupFor(props, openLabel) {
    var box = document.createElement("div");
    var title = document.createElement("span");
    title.className = "map-popup-title";
    title.textContent = props.name || "";
    box.appendChild(title);
    if (props.summary) {
      var summary = document.createElement("div");
      summary.textContent = props.summary;
      box.appendChild(summary);
    }
    if (props.url) {
      var link = document.createElement("a");
      link.href = props.url;
      link.textContent = openLabel || "›";
      box.appendChild(link);
    }
    return box;
  }

  function geoJsonLayer(view, data, options) {
    options = options || {};
    return L.geoJSON(data, {
      coordsToLatLng: function (c) { return view.toLatLng(c[0], c[1]); },
      style: function (feature) { return styleFor(feature.properties || {}, options.faded); },
      interactive: !options.faded,
      pointToLayer: function (feature, latlng) {
        var style = styleFor(feature.properties || {}, options.faded);
        style.radius = 7;
        style.fillOpacity = options.faded ? 0.2 : 0.6;
        style.interactive = !options.faded;
        return L.circleMarker(latlng, style);
      },
      onEachFeature: function (feature, layer) {
        var props = feature.properties || {};
        if (options.faded) return;
        if (options.popups) layer.bindPopup(popupFor(props, options.openLabel));
        if (props.kind === "building" && props.number) {
          layer.bindTooltip(String(props.number), {
            permanent: true, direction: "center", className: "map-label"
          });
        } else if (props.name) {
          layer.bindTooltip(String(props.name), {sticky: true});
        }
      }
    });
  }

  function devicePopup(props, labels) {
    var box = document.createElement("div");
    var title = document.createElement("span");
    title.className = "map-popup-title";
    title.textContent = props.name || "";
    box.appendChild(title);
    var details = document.createElement("dl");
    details.className = "map-popup-details";
    [[labels.kind, props.kind_label || props.device_kind], [labels.status, props.status_label || props.status]]
      .forEach(function (row) {
        if (!row[1]) return;
        var dt = document.createElement("dt");
        dt.textContent = row[0] || "";
        var dd = document.createElement("dd");
        dd.textContent = row[1];
        details.appendChild(dt);
        details.appendChild(dd);
      });
    box.appendChild(details);
    if (props.url) {
      var link = document.createElement("a");
      link.href = props.url;
      link.textContent = labels.open || "›";
      box.appendChild(link);
    }
    return box;
  }

  // Devices get a pane above the shapes, so switching a shape layer back on cannot cover them.
  var DEVICE_PANE = "anwangDevices";

  /* Device points as circle markers coloured by status. */
  function deviceLayer(view, data, labels) {
    return L.geoJSON(data, {
      coordsToLatLng: function (c) { return view.toLatLng(c[0], c[1]); },
      pointToLayer: function (feature, latlng) {
        var props = feature.properties || {};
        var colour = DEVICE_COLOURS[props.status] || DEVICE_COLOURS.unknown;
        return L.circleMarker(latlng, {
          radius: 6,
          color: "#ffffff",
          weight: 2,
          fillColor: colour,
          fillOpacity: 0.95,
          opacity: 1,
          pane: DEVICE_PANE,
          className: "map-device map-device-" + (DEVICE_COLOURS[props.status] ? props.status : "unknown")
        });
      },
      onEachFeature: function (feature, layer) {
        var props = feature.properties || {};
        layer.bindPopup(devicePopup(props, labels));
        if (props.name) layer.bindTooltip(String(props.name), {sticky: true});
      }
    });
  }

  function fetchJson(url) {
    return fetch(url, {credentials: "same-origin", headers: {Accept: "application/geo+json, application/json"}})
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      });
  }

  function fit(view, bounds, fallbackZoom) {
    if (bounds && bounds.isValid()) {
      view.map.fitBounds(bounds, {padding: [24, 24], maxZoom: 19});
    } else if (view.center) {
      view.map.setView(view.toLatLng(view.center[0], view.center[1]), fallbackZoom || 16);
    } else {
      view.map.setView([35.0, 105.0], 4);
    }
  }

  function setStatus(root, text) {
    var status = root.querySelector("[data-map-status]") ||
      document.querySelector('[data-map-status][data-map="' + root.id + '"]');
    if (status) status.textContent = text || "";
  }

  // ------------------------------------------------------------------ community map
  function initFeatureMap(el) {
    var view = makeMap(el, el);
    var openLabel = el.getAttribute("data-open-label") || "";
    fit(view, null);
    var devicesUrl = el.getAttribute("data-devices-url");
    // A failing device layer must not hide the buildings and zones: it resolves to null.
    var devicesLoaded = devicesUrl
      ? fetchJson(devicesUrl).catch(function () { return null; })
      : Promise.resolve({type: "FeatureCollection", features: []});
    Promise.all([fetchJson(el.getAttribute("data-geojson-url")), devicesLoaded])
      .then(function (results) {
        var data = results[0];
        var devices = results[1];
        var features = data.features || [];
        var groups = {community: [], buildings: [], zones: [], key_areas: []};
        features.forEach(function (feature) {
          var props = feature.properties || {};
          if (props.kind === "community") groups.community.push(feature);
          else if (props.kind === "building") groups.buildings.push(feature);
          else if (props.is_key_area) groups.key_areas.push(feature);
          else groups.zones.push(feature);
        });
        var layers = {};
        var bounds = L.latLngBounds([]);
        Object.keys(groups).forEach(function (name) {
          var layer = geoJsonLayer(view, {type: "FeatureCollection", features: groups[name]},
            {popups: true, openLabel: openLabel});
          layer.addTo(view.map);
          layers[name] = layer;
          if (groups[name].length) bounds.extend(layer.getBounds());
        });
        // Key areas stay on top of ordinary zones and buildings.
        layers.key_areas.bringToFront();
        var deviceFeatures = (devices && devices.features) || [];
        if (devicesUrl) {
          view.map.createPane(DEVICE_PANE).style.zIndex = "450";
          layers.devices = deviceLayer(view, {type: "FeatureCollection", features: deviceFeatures}, {
            kind: el.getAttribute("data-device-kind-label"),
            status: el.getAttribute("data-device-status-label"),
            open: el.getAttribute("data-device-open-label")
          });
          // Points last, so they stay clickable above the shapes.
          layers.devices.addTo(view.map);
          if (deviceFeatures.length) bounds.extend(layers.devices.getBounds());
        }
        fit(view, bounds);
        document.querySelectorAll('[data-layer-toggle][data-map="' + el.id + '"]').forEach(function (box) {
          var layer = layers[box.getAttribute("data-layer-toggle")];
          if (!layer) return;
          box.addEventListener("change", function () {
            if (box.checked) layer.addTo(view.map); else view.map.removeLayer(layer);
          });
        });
        if (devicesUrl && !devices) setStatus(el, el.getAttribute("data-devices-error-label"));
        else setStatus(el, features.length ? "" : el.getAttribute("data-empty-label"));
        el.setAttribute("data-feature-count", String(features.length + deviceFeatures.length));
        el.setAttribute("data-device-count", String(deviceFeatures.length));
        el.setAttribute("data-loaded", "true");
        el.anwangMap = view.map;
      })
      .catch(function () {
        setStatus(el, el.getAttribute("data-error-label"));
        el.setAttribute("data-loaded", "error");
      });
  }

  // ------------------------------------------------------------------ one shape
  function readGeometry(id) {
    var node = id && document.getElementById(id);
    if (!node) return null;
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }

  function initShapeMap(el) {
    var view = makeMap(el, el);
    var geometry = readGeometry(el.getAttribute("data-geometry-id"));
    var kind = el.getAttribute("data-kind") || "zone";
    var bounds = L.latLngBounds([]);
    if (geometry) {
      var props = {kind: kind, is_key_area: el.getAttribute("data-key-area") === "true"};
      var layer = geoJsonLayer(view, {type: "Feature", geometry: geometry, properties: props}, {});
      layer.addTo(view.map);
      bounds.extend(layer.getBounds());
    }
    fit(view, bounds, 17);
    var contextUrl = el.getAttribute("data-context-url");
    var done = function () {
      el.setAttribute("data-loaded", "true");
      el.anwangMap = view.map;
    };
    if (!contextUrl) { done(); return; }
    fetchJson(contextUrl).then(function (data) {
      var context = geoJsonLayer(view, data, {faded: true});
      context.addTo(view.map);
      context.bringToBack();
      if (!geometry) fit(view, context.getBounds(), 17);
      done();
    }).catch(done);
  }

  // ------------------------------------------------------------------ the editor
  function initEditor(el) {
    var input = document.getElementById(el.getAttribute("data-input"));
    var container = el.querySelector("[data-editor-map]");
    if (!input || !container) return;
    var view = makeMap(container, el);
    var labels = {
      start: el.getAttribute("data-start-label") || "",
      more: el.getAttribute("data-more-label") || "",
      done: el.getAttribute("data-done-label") || "",
      invalid: el.getAttribute("data-invalid-label") || "",
      other: el.getAttribute("data-other-label") || ""
    };
    var mode = "polygon";
    var vertices = []; // [lon, lat] in WGS84
    var shown = null;  // a geometry that the vertices cannot express (MultiPolygon, ...)
    var drawing = L.layerGroup().addTo(view.map);

    function minimum() {
      return mode === "polygon" ? 3 : (mode === "line" ? 2 : 1);
    }

    function geometry() {
      if (vertices.length < minimum()) return null;
      if (mode === "point") return {type: "Point", coordinates: vertices[0]};
      if (mode === "line") return {type: "LineString", coordinates: vertices.slice()};
      var ring = vertices.slice();
      ring.push(vertices[0]);
      return {type: "Polygon", coordinates: [ring]};
    }

    function status() {
      var node = el.querySelector("[data-editor-status]");
      if (!node) return;
      if (shown) { node.textContent = labels.other; return; }
      if (!vertices.length) node.textContent = labels.start;
      else if (vertices.length < minimum()) node.textContent = labels.more;
      else node.textContent = labels.done;
    }

    function draw() {
      drawing.clearLayers();
      if (shown) {
        geoJsonLayer(view, {type: "Feature", geometry: shown, properties: {kind: "zone"}}, {}).addTo(drawing);
      }
      var latlngs = vertices.map(function (v) { return view.toLatLng(v[0], v[1]); });
      var style = {color: COLOURS.key, weight: 3, fillColor: COLOURS.key, fillOpacity: 0.2, interactive: false};
      if (mode === "polygon" && latlngs.length >= 3) L.polygon(latlngs, style).addTo(drawing);
      else if (latlngs.length >= 2) L.polyline(latlngs, style).addTo(drawing);
      latlngs.forEach(function (latlng, index) {
        var handle = L.marker(latlng, {
          draggable: true,
          keyboard: false,
          icon: L.divIcon({
            className: "",
            iconSize: [14, 14],
            html: '<span style="display:block;width:12px;height:12px;background:#fff;' +
              'border:2px solid ' + COLOURS.key + ';border-radius:2px;box-sizing:border-box"></span>'
          })
        });
        handle.on("dragend", function () {
          vertices[index] = view.fromLatLng(handle.getLatLng());
          write();
        });
        handle.addTo(drawing);
      });
      status();
    }

    function write() {
      var g = geometry();
      input.value = g ? JSON.stringify(g) : "";
      draw();
    }

    function setMode(next) {
      mode = next;
      el.querySelectorAll("[data-editor-mode]").forEach(function (radio) {
        radio.checked = radio.getAttribute("data-editor-mode") === mode;
      });
    }

    function readInput() {
      var text = input.value.trim();
      shown = null;
      vertices = [];
      if (!text) { draw(); return true; }
      var data;
      try { data = JSON.parse(text); } catch (e) {
        var node = el.querySelector("[data-editor-status]");
        if (node) node.textContent = labels.invalid;
        return false;
      }
      if (data && data.type === "Feature") data = data.geometry;
      if (!data || !data.coordinates) { draw(); return false; }
      if (data.type === "Polygon" && data.coordinates.length === 1) {
        setMode("polygon");
        vertices = data.coordinates[0].slice(0, -1).map(function (p) { return [p[0], p[1]]; });
      } else if (data.type === "LineString") {
        setMode("line");
        vertices = data.coordinates.map(function (p) { return [p[0], p[1]]; });
      } else if (data.type === "Point") {
        setMode("point");
        vertices = [[data.coordinates[0], data.coordinates[1]]];
      } else {
        shown = data;
      }
      draw();
      return true;
    }

    view.map.on("click", function (event) {
      var vertex = view.fromLatLng(event.latlng);
      if (shown) { shown = null; }
      if (mode === "point") vertices = [vertex]; else vertices.push(vertex);
      write();
    });
    el.querySelectorAll("[data-editor-action]").forEach(function (button) {
      button.addEventListener("click", function () {
        var action = button.getAttribute("data-editor-action");
        if (action === "undo") { if (shown) shown = null; else vertices.pop(); }
        if (action === "clear") { vertices = []; shown = null; }
        write();
      });
    });
    el.querySelectorAll("[data-editor-mode]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        if (!radio.checked) return;
        mode = radio.getAttribute("data-editor-mode");
        if (mode === "point") vertices = vertices.slice(0, 1);
        write();
      });
    });
    input.addEventListener("input", function () {
      if (readInput()) fitToDrawing();
    });

    function fitToDrawing(fallback) {
      var bounds = L.latLngBounds([]);
      drawing.eachLayer(function (layer) {
        if (layer.getBounds) bounds.extend(layer.getBounds());
        else if (layer.getLatLng) bounds.extend(layer.getLatLng());
      });
      if (bounds.isValid()) fit(view, bounds, 18);
      else if (fallback) fit(view, fallback, 17);
    }

    var checked = el.querySelector("[data-editor-mode]:checked");
    if (checked) mode = checked.getAttribute("data-editor-mode");
    readInput();
    fitToDrawing();
    var done = function () {
      el.setAttribute("data-loaded", "true");
      el.anwangMap = view.map;
    };
    var contextUrl = el.getAttribute("data-context-url");
    if (!contextUrl) {
      if (!vertices.length && !shown) fit(view, null, 17);
      done();
      return;
    }
    fetchJson(contextUrl).then(function (data) {
      var context = geoJsonLayer(view, data, {faded: true});
      context.addTo(view.map);
      context.bringToBack();
      if (!vertices.length && !shown) fit(view, context.getBounds(), 17);
      done();
    }).catch(function () {
      if (!vertices.length && !shown) fit(view, null, 17);
      done();
    });
  }

  // ------------------------------------------------------------------ start
  var INITIALISERS = {features: initFeatureMap, shape: initShapeMap, editor: initEditor};

  function initAll(root) {
    if (typeof L === "undefined") return;
    (root || document).querySelectorAll("[data-anwang-map]").forEach(function (el) {
      if (el.getAttribute("data-map-ready")) return;
      var init = INITIALISERS[el.getAttribute("data-anwang-map")];
      if (!init) return;
      el.setAttribute("data-map-ready", "true");
      init(el);
    });
  }

  window.AnwangMap = {
    wgs84ToGcj02: wgs84ToGcj02,
    gcj02ToWgs84: gcj02ToWgs84,
    gcj02ToBd09: gcj02ToBd09,
    wgs84ToBd09: wgs84ToBd09,
    bd09ToWgs84: bd09ToWgs84,
    outOfChina: outOfChina,
    init: initAll
  };

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { initAll(); });
  } else {
    initAll();
  }
})();
