// Scan a QR code with the phone's camera (BarcodeDetector) where the browser can; where it
// cannot, the typed-code form stays. One scanner for every page that reads a code.
//
// Pages that only need the code opened or typed in for them mark a section:
//   <section data-scanner data-url="/inspections/scan/" data-param="label">  opens url?label=code
//   <section data-scanner> ... <input data-scan-input> ...                   fills it, submits its form
// Pages that handle the code themselves (the patrol run, offline) call
//   AnwangQrScan.offer(root, onFound(text), onError())
// Inside root: a [data-scan] button (hidden until the camera can read QR codes), a [data-camera]
// box with a [data-video] and a [data-camera-close] button; marked sections also have a
// [data-camera-error] message.
(function () {
  "use strict";

  function offer(root, onFound, onError) {
    var button = root.querySelector("[data-scan]");
    var box = root.querySelector("[data-camera]");
    var video = root.querySelector("[data-video]");
    var stream = null;
    var scanning = false;

    function stop() {
      scanning = false;
      if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
      if (box) box.hidden = true;
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
              if (codes.length && scanning) {
                var text = codes[0].rawValue;
                stop();
                onFound(text);
              } else {
                setTimeout(look, 250);
              }
            }).catch(function () { setTimeout(look, 500); });
          }
          look();
        }).catch(function () {
          stop();
          onError();
        });
    }

    if (!button || !box || !video || !("BarcodeDetector" in window) || !navigator.mediaDevices ||
        !navigator.mediaDevices.getUserMedia) return;
    window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      if (formats.indexOf("qr_code") < 0) return;
      button.hidden = false;
      button.addEventListener("click", start);
      var close = root.querySelector("[data-camera-close]");
      if (close) close.addEventListener("click", stop);
    }).catch(function () { /* no camera scanning: typing stays */ });
  }

  window.AnwangQrScan = {offer: offer};

  var root = document.querySelector("[data-scanner]");
  if (!root) return;
  offer(root, function (text) {
    var input = root.querySelector("[data-scan-input]");
    if (input) {
      input.value = text;
      input.form.submit();
    } else {
      var param = root.dataset.param || "label";
      window.location.href = root.dataset.url + "?" + param + "=" + encodeURIComponent(text);
    }
  }, function () {
    root.querySelector("[data-camera-error]").hidden = false;
  });
})();
