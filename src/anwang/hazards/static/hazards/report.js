// The hazard report form: pin the phone's position (browser geolocation) into the hidden
// latitude/longitude fields, then let htmx ask for open reports of the same kind nearby.
(function () {
  "use strict";
  function init() {
    // Another community has other buildings: load the form for it.
    var community = document.getElementById("id_community");
    if (community && community.tagName === "SELECT") {
      community.addEventListener("change", function () {
        var url = new URL(window.location.href);
        url.searchParams.set("community", community.value);
        window.location.href = url.toString();
      });
    }
    var button = document.querySelector("[data-locate]");
    if (!button) { return; }
    var status = document.querySelector("[data-locate-status]");
    var lat = document.getElementById("id_latitude");
    var lon = document.getElementById("id_longitude");
    function say(text) { if (status) { status.textContent = text; } }
    function pinned() { document.body.dispatchEvent(new CustomEvent("pinned")); }
    button.addEventListener("click", function () {
      if (!navigator.geolocation) { say(button.dataset.failed); return; }
      say(button.dataset.locating);
      navigator.geolocation.getCurrentPosition(function (position) {
        lat.value = position.coords.latitude.toFixed(6);
        lon.value = position.coords.longitude.toFixed(6);
        say(button.dataset.pinned.replace("%(m)s", Math.round(position.coords.accuracy || 0)));
        pinned();
      }, function () { say(button.dataset.failed); }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
    // A position carried in (from a checkpoint, or a form shown again) is checked at once.
    if (lat.value && lon.value) { window.setTimeout(pinned, 0); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
