// The door page: records attendance without signal, through the offline store and sync of
// outbox.js (loaded before this file).
(function () {
  "use strict";
  var root = document.getElementById("door");
  if (!root) { return; }
  var eventId = Number(root.dataset.event);
  var rosterUrl = "/web/events/" + eventId + "/door/roster";
  var roster = null;
  var t = window.coordinatorOutbox.texts(root);
  var outbox = window.coordinatorOutbox.open({
    name: "coordinator-door", endpoint: "/web/door/batch", eventId: eventId, changed: show,
    token: function () { return loadRoster().then(function (fresh) { return fresh && fresh.csrf; }); }
  });

  function record(fields, label, what) {
    var payload = Object.assign(
      { client_id: crypto.randomUUID(), event_id: eventId, at: new Date().toISOString() }, fields);
    var line = { event_id: eventId, at: payload.at, label: label, what: what, person_id: fields.person_id || null };
    return outbox.add(payload, line);
  }

  function loadRoster() {
    return fetch(rosterUrl, { credentials: "same-origin", redirect: "manual" }).then(function (response) {
      var json = (response.headers.get("content-type") || "").indexOf("json") >= 0;
      if (!response.ok || !json) { return null; }
      return response.json().then(function (answer) { roster = answer; drawRoster(); return answer; });
    }).catch(function () { return null; });
  }

  function element(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text) { node.textContent = text; }
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    return node;
  }

  function outcomeText(line) {
    if (!line.outcome) { return t("pending"); }
    if (line.outcome === "conflict") { return t(line.resolution === "kept_stored" ? "conflict_kept" : "conflict_replaced"); }
    if (line.outcome === "rejected") { return t("rejected") + ": " + (line.message || ""); }
    return t(line.outcome);
  }

  function drawRoster() {
    var list = document.getElementById("door-roster");
    list.textContent = "";
    if (!roster) { list.appendChild(element("li", t("no_roster"))); return; }
    roster.people.forEach(function (person) {
      var confirmed = person.status === "confirmed";
      var item = element("li", null, { "data-person": String(person.person_id) });
      var standing = confirmed ? t("confirmed") : t("waitlisted") + (person.position ? " " + person.position : "");
      item.appendChild(element("strong", person.name));
      item.appendChild(document.createTextNode(" · " + person.role + " · " + standing + " · " + (person.phone || "")));
      var ticks = element("div", null, { "class": "door-ticks" });
      [["present", "checkin", false], ["late", "checkin", true], ["left_early", "checkout", false]].forEach(function (tick) {
        var button = element("button", t(tick[0]), { type: "button", "data-tick": tick[0] });
        button.addEventListener("click", function () {
          var fields = { kind: tick[1], person_id: person.person_id, walk_in: !confirmed };
          if (tick[2]) { fields.late = true; }
          record(fields, person.name, t(tick[0]));
        });
        ticks.appendChild(button);
      });
      item.appendChild(ticks);
      item.appendChild(element("span", "", { "class": "door-outcome", "data-testid": "door-outcome" }));
      list.appendChild(item);
    });
  }

  function show() {
    var status = outbox.status(document.getElementById("door-waiting"), document.getElementById("door-net"), t);
    return Promise.all([status, outbox.all("log")]).then(function (stores) {
      var lines = stores[1].filter(function (line) { return line.event_id === eventId; });
      lines.sort(function (a, b) { return a.at < b.at ? 1 : a.at > b.at ? -1 : 0; });
      var log = document.getElementById("door-log");
      log.textContent = "";
      lines.forEach(function (line) {
        var time = new Date(line.at).toLocaleTimeString();
        var item = element("li", line.label + " · " + line.what + " · " + time + " · " + outcomeText(line), {
          "data-client-id": line.client_id, "data-outcome": line.outcome || "pending",
          "class": line.outcome ? "door-outcome-" + line.outcome : ""
        });
        log.appendChild(item);
      });
      // Per person, the newest record's outcome (lines are newest first).
      lines.slice().reverse().forEach(function (line) {
        var row = line.person_id && document.querySelector("#door-roster li[data-person='" + line.person_id + "'] .door-outcome");
        if (row) { row.textContent = line.what + " · " + outcomeText(line); }
      });
    });
  }

  // Scanning: the browser's BarcodeDetector where it reads QR codes, else jsQR served by the app.
  var frame = document.getElementById("door-frame");
  var video = document.getElementById("door-video");
  var detector = null;
  var lastText = "";
  var lastAt = 0;
  var decoder = null;

  function nativeDetector() {
    if (!("BarcodeDetector" in window)) { return Promise.resolve(null); }
    return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      return formats.indexOf("qr_code") >= 0 ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
    }).catch(function () { return null; });
  }

  function jsQR() {
    if (!decoder) {
      decoder = new Promise(function (resolve, reject) {
        var script = element("script", null, { src: root.dataset.jsqr });
        script.onload = function () { resolve(window.jsQR); };
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }
    return decoder;
  }

  function decode(canvas) {
    return (detector ? Promise.resolve(detector) : nativeDetector()).then(function (found) {
      detector = found;
      if (found) {
        return found.detect(canvas).then(function (codes) { return codes.length ? codes[0].rawValue : null; });
      }
      return jsQR().then(function (read) {
        var pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
        var code = read(pixels.data, pixels.width, pixels.height);
        return code ? code.data : null;
      });
    });
  }

  // A personal code holds a link with ?token=; the token is kept as scanned, checked by the server.
  function scanned(text) {
    var now = Date.now();
    if (text === lastText && now - lastAt < 3000) { return Promise.resolve(null); }
    lastText = text;
    lastAt = now;
    var token = text;
    try { token = new URL(text).searchParams.get("token") || text; } catch (e) { token = text; }
    return record({ kind: "checkin", person_token: token }, t("scanned"), "…" + token.slice(-6)).then(function () { return token; });
  }

  function scanCanvas() {
    return decode(frame).then(function (text) { return text ? scanned(text) : null; });
  }

  function draw(source, width, height) {
    frame.width = width;
    frame.height = height;
    frame.getContext("2d", { willReadFrequently: true }).drawImage(source, 0, 0, width, height);
  }

  var stream = null;
  function looking() {
    if (!stream) { return; }
    if (video.videoWidth) { draw(video, video.videoWidth, video.videoHeight); }
    (video.videoWidth ? scanCanvas() : Promise.resolve()).catch(function () { return null; }).then(function () {
      setTimeout(looking, 250);
    });
  }

  var camera = document.getElementById("door-camera");
  camera.addEventListener("click", function () {
    if (stream) {
      stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
      video.hidden = true;
      camera.textContent = t("scan_start");
      return;
    }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (opened) {
      stream = opened;
      video.srcObject = opened;
      video.hidden = false;
      camera.textContent = t("scan_stop");
      return video.play().then(looking);
    }).catch(function () { document.getElementById("door-net").textContent = t("no_camera"); });
  });

  // The same decoding as camera frames, for a picture of a code (and for the browser tests).
  window.coordinatorDoor = {
    scanImage: function (src) {
      var image = new Image();
      image.src = src;
      return image.decode().then(function () {
        draw(image, image.naturalWidth, image.naturalHeight);
        return scanCanvas();
      });
    },
    sync: outbox.sync
  };

  document.getElementById("door-walk-in").addEventListener("submit", function (submitted) {
    submitted.preventDefault();
    var form = submitted.target;
    var name = form.elements.name.value.trim();
    var phone = form.elements.phone.value.trim();
    if (!name || !phone) { return; }
    record({ kind: "checkin", name: name, phone: phone }, name, t("walk_in")).then(function () { form.reset(); });
  });

  // Keeps this page, its roster and its files for the next visit without signal; the decoder
  // only where the browser cannot read QR codes itself.
  function keepForOffline() {
    return nativeDetector().then(function (native) {
      var urls = [location.pathname, rosterUrl].concat(root.dataset.keep.split(" "), native ? [] : [root.dataset.jsqr]);
      return window.coordinatorOutbox.keep("/web/events/", urls);
    });
  }

  loadRoster().then(function (answer) {
    if (!answer) {
      drawRoster();
    }
    return show();
  }).then(function () {
    keepForOffline().catch(function () { return null; });
    return outbox.sync();
  });
})();
