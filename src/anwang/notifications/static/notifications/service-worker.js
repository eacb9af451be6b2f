/* Anwang service worker: shows Web Push messages and opens their link when tapped.
 * Served by anwang.notifications.push_views.service_worker, which defines ANWANG_ICON_URL
 * above this line. The payload is JSON {title, body, url, id, urgent}. */
/* global ANWANG_ICON_URL */
"use strict";

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("push", function (event) {
  var message = {};
  if (event.data) {
    try {
      message = event.data.json();
    } catch (error) {
      message = { body: event.data.text() };
    }
  }
  var title = message.title || "安网";
  var options = {
    body: message.body || "",
    icon: ANWANG_ICON_URL,
    badge: ANWANG_ICON_URL,
    tag: message.id ? "anwang-" + message.id : undefined,
    renotify: Boolean(message.id && message.urgent),
    // Urgent alarms stay on screen until someone acts on them.
    requireInteraction: Boolean(message.urgent),
    data: { url: message.url || "/", id: message.id || null }
  };
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var target = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
      for (var i = 0; i < windows.length; i += 1) {
        var client = windows[i];
        if (client.url === target.href && "focus" in client) {
          return client.focus();
        }
      }
      // Reuse a window of this site if there is one, else open a new one.
      for (var j = 0; j < windows.length; j += 1) {
        var other = windows[j];
        if (new URL(other.url).origin === self.location.origin && "navigate" in other) {
          return other.focus().then(function (focused) {
            return focused.navigate(target.href);
          });
        }
      }
      return self.clients.openWindow(target.href);
    })
  );
});
