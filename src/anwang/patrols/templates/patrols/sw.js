{% autoescape off %}/* Anwang patrols service worker: keeps the patrol run pages, their files and data on the
 * phone so that a guard can keep checking in without signal. Check-ins themselves wait in
 * IndexedDB (see patrols/run.js); this file only answers page and file requests.
 *
 * - run pages (/patrols/runs/<id>/go/), the list of runs (/patrols/runs/, to find the way back
 *   to the run) and run data (/api/v1/patrols/runs/<id>): network first, the last good copy
 *   when there is no network;
 * - static files: the cached copy, refreshed from the network in the background;
 * - everything else (and every write) goes to the network untouched.
 */
"use strict";

var CACHE = {{ cache_json }};
var ASSETS = {{ assets_json }};
var RUN_PAGE = /\/patrols\/runs\/(\d+\/go\/)?$/;
var RUN_DATA = /\/api\/v1\/patrols\/runs\/\d+$/;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(ASSETS); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("anwang-patrols-") === 0 && name !== CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

function networkFirst(request) {
  return fetch(request).then(function (response) {
    // A redirect to the login page or an error page is not the run page to keep.
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
    }
    return response;
  }).catch(function () {
    return caches.open(CACHE).then(function (cache) {
      return cache.match(request, {ignoreSearch: true, ignoreVary: true});
    }).then(function (cached) {
      return cached || new Response("", {status: 503, statusText: "offline"});
    });
  });
}

function cacheFirst(request) {
  return caches.open(CACHE).then(function (cache) {
    return cache.match(request, {ignoreVary: true}).then(function (cached) {
      var fresh = fetch(request).then(function (response) {
        if (response.ok) cache.put(request, response.clone());
        return response;
      });
      if (cached) {
        fresh.catch(function () { return null; });
        return cached;
      }
      return fresh;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (RUN_PAGE.test(url.pathname) || RUN_DATA.test(url.pathname)) {
    event.respondWith(networkFirst(request));
  } else if (url.pathname.indexOf("{{ static_prefix }}") === 0) {
    event.respondWith(cacheFirst(request));
  }
});
{% endautoescape %}
