/* The asset form shows the fields of the chosen type only (extinguisher, supply); the server
 * ignores the others anyway, so without JavaScript everything still works. */
(function () {
  "use strict";
  function update(form) {
    var select = form.querySelector("select[name=asset_type]");
    if (!select) return;
    form.querySelectorAll("[data-asset-types]").forEach(function (box) {
      if (box.tagName !== "DIV") return;
      var types = box.getAttribute("data-asset-types").split(",");
      box.hidden = types.indexOf(select.value) === -1;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-asset-form]").forEach(function (form) {
      update(form);
      form.addEventListener("change", function (event) {
        if (event.target.name === "asset_type") update(form);
      });
    });
  });
})();
