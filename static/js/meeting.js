// Live meeting page: tick the meeting and agenda timers, reload when the meeting starts or ends.
(function () {
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-started-at]").forEach(function (el) {
      var started = Date.parse(el.getAttribute("data-started-at"));
      if (isNaN(started)) { return; }
      var seconds = Math.max(0, Math.floor((now - started) / 1000));
      el.textContent = Math.floor(seconds / 60) + ":" + pad(seconds % 60);
      var limit = parseFloat(el.getAttribute("data-limit-minutes") || "0");
      el.classList.toggle("over", limit > 0 && seconds > limit * 60);
    });
  }
  setInterval(tick, 1000);
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:sseMessage", function (event) {
    if (event.detail && event.detail.type === "reload") { window.location.reload(); }
  });
})();
