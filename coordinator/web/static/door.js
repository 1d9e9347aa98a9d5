// The door page: records attendance without signal. Every record waits in IndexedDB ("outbox")
// until the server has acknowledged it; what the page shows of each record, and the server's
// outcome, is kept beside it ("log"). Uploads go in chunks whenever the network is there.
(function () {
  "use strict";
  var root = document.getElementById("door");
  if (!root) { return; }
  var eventId = Number(root.dataset.event);
  var rosterUrl = "/web/events/" + eventId + "/door/roster";
  var CACHE = "coordinator-door-v1"; // door-sw.js reads the same cache
  var CHUNK = 10;
  var RETRY_MS = 15000;
  var zh = document.documentElement.lang.indexOf("zh") === 0;
  var roster = null;
  var refused = false;
  var syncing = null;

  function t(key, n) {
    var text = root.getAttribute("data-t-" + key.replace(/_/g, "-")) || key;
    return n === undefined ? text : text.replace("{n}", String(n));
  }

  // IndexedDB, one transaction per change: a record and its log line are written together,
  // and an acknowledged record leaves the outbox in the same transaction that logs its outcome.
  var database = new Promise(function (resolve, reject) {
    var opening = indexedDB.open("coordinator-door", 1);
    opening.onupgradeneeded = function () {
      opening.result.createObjectStore("outbox", { keyPath: "client_id" });
      opening.result.createObjectStore("log", { keyPath: "client_id" });
    };
    opening.onsuccess = function () { resolve(opening.result); };
    opening.onerror = function () { reject(opening.error); };
  });

  function run(stores, mode, work) {
    return database.then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(stores, mode);
        var out = work(transaction);
        transaction.oncomplete = function () { resolve(out && "result" in out ? out.result : out); };
        transaction.onerror = function () { reject(transaction.error); };
        transaction.onabort = function () { reject(transaction.error); };
      });
    });
  }

  function all(store) {
    return run([store], "readonly", function (tx) { return tx.objectStore(store).getAll(); });
  }

  function record(fields, label, what) {
    var payload = Object.assign(
      { client_id: crypto.randomUUID(), event_id: eventId, at: new Date().toISOString() }, fields);
    var line = {
      client_id: payload.client_id, event_id: eventId, at: payload.at, label: label, what: what,
      person_id: fields.person_id || null, outcome: null
    };
    return run(["outbox", "log"], "readwrite", function (tx) {
      tx.objectStore("outbox").put(payload);
      tx.objectStore("log").put(line);
    }).then(show).then(sync);
  }

  function settle(results) {
    return run(["outbox", "log"], "readwrite", function (tx) {
      var log = tx.objectStore("log");
      results.forEach(function (result) {
        tx.objectStore("outbox").delete(result.client_id);
        var reading = log.get(result.client_id);
        reading.onsuccess = function () {
          var line = reading.result || { client_id: result.client_id, event_id: eventId, label: "", what: "" };
          line.outcome = result.outcome;
          line.resolution = result.resolution || null;
          line.person_id = line.person_id || result.person_id || null;
          line.message = zh ? result.message : result.message_en;
          log.put(line);
        };
      });
    });
  }

  // Sends every waiting record, oldest first, CHUNK at a time; stops at the first failure and
  // keeps whatever was not acknowledged for the next try.
  function sync() {
    if (syncing) { return syncing; }
    syncing = all("outbox").then(function (waiting) {
      if (!waiting.length || !navigator.onLine) { return null; }
      waiting.sort(function (a, b) { return a.at < b.at ? -1 : a.at > b.at ? 1 : 0; });
      return loadRoster().then(function (fresh) {
        if (!fresh) { return null; }
        var chain = Promise.resolve(true);
        for (var i = 0; i < waiting.length; i += CHUNK) {
          chain = chain.then(send.bind(null, waiting.slice(i, i + CHUNK), fresh.csrf));
        }
        return chain;
      });
    }).catch(function () { return null; }).then(function () { syncing = null; return show(); });
    return syncing;
  }

  function send(chunk, csrf, going) {
    if (!going) { return false; }
    return fetch("/web/door/batch", {
      method: "POST", credentials: "same-origin", redirect: "manual",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ records: chunk })
    }).then(function (response) {
      refused = !response.ok;
      if (!response.ok) { return false; }
      return response.json().then(function (answer) { return settle(answer.results); }).then(function () { return true; });
    });
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
    return Promise.all([all("outbox"), all("log")]).then(function (stores) {
      var waiting = stores[0].length;
      document.getElementById("door-waiting").textContent = waiting ? t("waiting", waiting) : t("all_sent");
      document.getElementById("door-net").textContent =
        !navigator.onLine ? t("offline") : refused && waiting ? t("refused") : "";
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
    sync: sync
  };

  document.getElementById("door-walk-in").addEventListener("submit", function (submitted) {
    submitted.preventDefault();
    var form = submitted.target;
    var name = form.elements.name.value.trim();
    var phone = form.elements.phone.value.trim();
    if (!name || !phone) { return; }
    record({ kind: "checkin", name: name, phone: phone }, name, t("walk_in")).then(function () { form.reset(); });
  });

  // Keeps this page, its roster and its files for the next visit without signal.
  function keepForOffline() {
    if (!("serviceWorker" in navigator) || !window.caches) { return Promise.resolve(); }
    return navigator.serviceWorker.register("/web/door-sw.js", { scope: "/web/events/" }).then(function () {
      return Promise.all([caches.open(CACHE), nativeDetector()]);
    }).then(function (opened) {
      var cache = opened[0];
      // The decoder is kept only where the browser cannot read QR codes itself.
      var urls = [location.pathname, rosterUrl].concat(root.dataset.keep.split(" "), opened[1] ? [] : [root.dataset.jsqr]);
      return Promise.all(urls.map(function (url) {
        // The header names the background copy, so a first load's weight can leave it out.
        var asked = { credentials: "same-origin", redirect: "manual", headers: { "X-Door-Keep": "1" } };
        return fetch(url, asked).then(function (response) {
          return response.ok ? cache.put(url, response) : null;
        }).catch(function () { return null; });
      })).then(function () { return forgetOldFiles(cache, urls); });
    });
  }

  // Static files of earlier versions are no longer linked from any page.
  function forgetOldFiles(cache, urls) {
    return cache.keys().then(function (requests) {
      return Promise.all(requests.filter(function (request) {
        var url = new URL(request.url);
        return url.pathname.indexOf("/web/static/") === 0 && urls.indexOf(url.pathname + url.search) < 0;
      }).map(function (request) { return cache.delete(request); }));
    });
  }

  window.addEventListener("online", sync);
  window.addEventListener("offline", show);
  setInterval(sync, RETRY_MS);
  loadRoster().then(function (answer) {
    if (!answer) {
      drawRoster();
    }
    return show();
  }).then(function () {
    if (navigator.onLine) { keepForOffline().catch(function () { return null; }); }
    return sync();
  });
})();
