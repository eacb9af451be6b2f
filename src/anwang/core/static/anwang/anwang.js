// Small progressive enhancements; every page works without them.
document.addEventListener("htmx:responseError", function (event) {
  var box = document.querySelector(".messages") || document.createElement("ul");
  box.className = "messages";
  box.innerHTML = "";
  var item = document.createElement("li");
  item.className = "message message-error";
  item.textContent = document.documentElement.lang === "en"
    ? "The request failed (" + event.detail.xhr.status + "). Nothing was changed."
    : "请求失败（" + event.detail.xhr.status + "），未作任何更改。";
  box.appendChild(item);
  var main = document.getElementById("main");
  if (main && !box.parentNode) main.insertBefore(box, main.firstChild);
});
