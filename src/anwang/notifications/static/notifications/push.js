/* "Turn on notifications on this device": registers the service worker, subscribes with the
 * platform's VAPID key and stores the subscription (templates/notifications/_push_button.html).
 * Where push is not supported (older browsers, iOS outside a home-screen app, http) it only
 * shows a note. */
"use strict";

(function () {
  function base64UrlToBytes(text) {
    var padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) {
      bytes[i] = raw.charCodeAt(i);
    }
    return bytes;
  }

  function postJson(url, csrfToken, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (!response.ok) {
        return response.json().catch(function () { return {}; }).then(function (error) {
          throw new Error(error.detail || String(response.status));
        });
      }
      return response.json();
    });
  }

  function setUp(box) {
    var button = box.querySelector("[data-push-toggle]");
    var state = box.querySelector("[data-push-state]");
    var note = box.querySelector("[data-push-note]");
    var text = {
      on: box.dataset.textOn,
      off: box.dataset.textOff,
      turnOn: box.dataset.textTurnOn,
      turnOff: box.dataset.textTurnOff,
      denied: box.dataset.textDenied,
      unsupported: box.dataset.textUnsupported,
      failed: box.dataset.textFailed
    };
    var registration = null;

    function show(subscribed, message) {
      box.dataset.pushState = subscribed ? "on" : "off";
      state.textContent = subscribed ? text.on : text.off;
      button.textContent = subscribed ? text.turnOff : text.turnOn;
      button.setAttribute("aria-pressed", subscribed ? "true" : "false");
      button.disabled = false;
      note.textContent = message || "";
      note.hidden = !message;
    }

    function unsupported(message) {
      box.dataset.pushState = "unsupported";
      button.hidden = true;
      state.textContent = "";
      note.textContent = message;
      note.hidden = false;
    }

    if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window) || !window.isSecureContext) {
      unsupported(text.unsupported);
      return;
    }
    if (Notification.permission === "denied") {
      unsupported(text.denied);
      return;
    }

    function turnOn() {
      button.disabled = true;
      return Notification.requestPermission()
        .then(function (permission) {
          if (permission !== "granted") {
            throw new Error(text.denied);
          }
          return fetch(box.dataset.keyUrl, { credentials: "same-origin" });
        })
        .then(function (response) {
          if (!response.ok) {
            throw new Error(text.failed);
          }
          return response.json();
        })
        .then(function (key) {
          return registration.pushManager.subscribe({
            userVisibleOnly: true,
            applicationServerKey: base64UrlToBytes(key.public_key)
          });
        })
        .then(function (subscription) {
          return postJson(box.dataset.subscribeUrl, box.dataset.csrf, subscription.toJSON());
        })
        .then(function () { show(true); })
        .catch(function (error) { show(false, (error && error.message) || text.failed); });
    }

    function turnOff() {
      button.disabled = true;
      return registration.pushManager.getSubscription()
        .then(function (subscription) {
          if (!subscription) {
            return null;
          }
          var endpoint = subscription.endpoint;
          return subscription.unsubscribe().then(function () {
            return postJson(box.dataset.unsubscribeUrl, box.dataset.csrf, { endpoint: endpoint });
          });
        })
        .then(function () { show(false); })
        .catch(function (error) { show(true, (error && error.message) || text.failed); });
    }

    button.addEventListener("click", function () {
      if (box.dataset.pushState === "on") {
        turnOff();
      } else {
        turnOn();
      }
    });

    button.disabled = true;
    navigator.serviceWorker
      .register(box.dataset.workerUrl, { scope: "/" })
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function (ready) {
        registration = ready;
        return registration.pushManager.getSubscription();
      })
      .then(function (subscription) {
        if (subscription) {
          // Tell the server again: it may have forgotten an expired subscription, or another
          // person may have used this browser before.
          return postJson(box.dataset.subscribeUrl, box.dataset.csrf, subscription.toJSON())
            .then(function () { show(true); }, function () { show(true); });
        }
        show(false);
        return null;
      })
      .catch(function () { unsupported(text.unsupported); });
  }

  function start() {
    var boxes = document.querySelectorAll("[data-push-box]");
    for (var i = 0; i < boxes.length; i += 1) {
      setUp(boxes[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
