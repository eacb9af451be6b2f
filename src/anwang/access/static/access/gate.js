// The guard's gate page: scan a visitor pass with the phone's camera (BarcodeDetector, as the
// patrol and inspection pages do) and submit it for checking; where the browser cannot, the
// typed code field stays.
(function () {
  "use strict";
  var root = document.querySelector("[data-gate-scanner]");
  if (!root) return;
  var button = root.querySelector("[data-scan]");
  var box = root.querySelector("[data-camera]");
  var video = root.querySelector("[data-video]");
  var form = root.querySelector("[data-gate-form]");
  var input = form.querySelector("input[name=token]");
  var stream = null;
  var scanning = false;

  function stop() {
    scanning = false;
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
    box.hidden = true;
  }

  function found(text) {
    stop();
    input.value = text;
    form.submit();
  }

  function start() {
    var detector = new window.BarcodeDetector({formats: ["qr_code"]});
    navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false})
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        box.hidden = false;
        scanning = true;
        return video.play();
      }).then(function () {
        function look() {
          if (!scanning) return;
          detector.detect(video).then(function (codes) {
            if (codes.length && scanning) found(codes[0].rawValue);
            else setTimeout(look, 250);
          }).catch(function () { setTimeout(look, 500); });
        }
        look();
      }).catch(function () {
        stop();
        root.querySelector("[data-camera-error]").hidden = false;
      });
  }

  if (!button || !("BarcodeDetector" in window) || !navigator.mediaDevices ||
      !navigator.mediaDevices.getUserMedia) return;
  window.BarcodeDetector.getSupportedFormats().then(function (formats) {
    if (formats.indexOf("qr_code") < 0) return;
    button.hidden = false;
    button.addEventListener("click", start);
    root.querySelector("[data-camera-close]").addEventListener("click", stop);
  }).catch(function () { /* typing stays */ });
})();
