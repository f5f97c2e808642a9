// The admin page without JavaScript is complete (forms and redirects); this adds drag and drop
// onto the upload form and follows a running build through /api/index/status (the session
// cookie authorises reading it), reloading the page when the build ends.
(function () {
  "use strict";

  var zone = document.getElementById("drop-zone");
  var input = document.getElementById("upload-files");
  var hint = document.getElementById("drop-hint");
  if (zone && input) {
    if (hint) hint.hidden = false;
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        event.preventDefault();
        zone.classList.add("admin-drop-active");
      });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function () { zone.classList.remove("admin-drop-active"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) {
        input.files = event.dataTransfer.files;
        if (hint) {
          hint.textContent = Array.prototype.map.call(input.files, function (f) { return f.name; }).join(", ");
        }
      }
    });
  }

  var build = document.getElementById("build");
  if (!build || build.getAttribute("data-state") !== "running") return;
  var bar = document.getElementById("build-bar");
  var stage = document.getElementById("build-stage");
  var state = document.getElementById("build-state");

  function show(status) {
    var p = status.progress;
    if (state) state.textContent = status.state;
    if (p && bar && stage) {
      bar.max = p.rows_total || 1;
      bar.value = p.rows_done;
      stage.textContent = p.stage + ": " + p.documents_done + "/" + p.documents_total + " documents, " +
        p.rows_done + "/" + p.rows_total + " texts embedded, " + Math.round(p.elapsed_seconds) + " s";
    }
  }

  function poll() {
    fetch("/api/index/status", {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        if (!status) { window.setTimeout(poll, 3000); return; }
        show(status);
        if (status.state === "running") window.setTimeout(poll, 700);
        else window.location.replace("/admin");
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 300);
})();
