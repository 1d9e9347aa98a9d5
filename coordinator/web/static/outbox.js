// The offline store and sync shared by the door page and the home-visit pages. Every record
// waits in IndexedDB ("outbox") until the server has acknowledged it; what the page shows of
// each record, and the server's outcome, is kept beside it ("log"). Uploads go in chunks
// whenever the network is there; door-sw.js keeps the pages for use without signal.
(function () {
  "use strict";
  var CACHE = "coordinator-door-v1"; // door-sw.js reads the same cache
  var CHUNK = 10;
  var RETRY_MS = 15000;
  var zh = document.documentElement.lang.indexOf("zh") === 0;

  // options: name (the IndexedDB database), endpoint (POST, JSON), eventId, time (the payload's
  // device-time field), token() (a promise of a fresh form token, or null when the session is
  // gone), changed() (redraws the page).
  function open(options) {
    var time = options.time || "at";
    var state = { refused: false };
    var syncing = null;

    // One transaction per change: a record and its log line are written together, and an
    // acknowledged record leaves the outbox in the same transaction that logs its outcome.
    var database = new Promise(function (resolve, reject) {
      var opening = indexedDB.open(options.name, 1);
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

    function add(payload, line) {
      line.client_id = payload.client_id;
      line.outcome = null;
      return run(["outbox", "log"], "readwrite", function (tx) {
        tx.objectStore("outbox").put(payload);
        tx.objectStore("log").put(line);
      }).then(options.changed).then(sync);
    }

    function settle(results) {
      return run(["outbox", "log"], "readwrite", function (tx) {
        var log = tx.objectStore("log");
        results.forEach(function (result) {
          tx.objectStore("outbox").delete(result.client_id);
          var reading = log.get(result.client_id);
          reading.onsuccess = function () {
            var line = reading.result || { client_id: result.client_id, event_id: options.eventId, label: "", what: "" };
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
        waiting.sort(function (a, b) { return a[time] < b[time] ? -1 : a[time] > b[time] ? 1 : 0; });
        return options.token().then(function (csrf) {
          if (!csrf) { return null; }
          var chain = Promise.resolve(true);
          for (var i = 0; i < waiting.length; i += CHUNK) {
            chain = chain.then(send.bind(null, waiting.slice(i, i + CHUNK), csrf));
          }
          return chain;
        });
      }).catch(function () { return null; }).then(function () { syncing = null; return options.changed(); });
      return syncing;
    }

    function send(chunk, csrf, going) {
      if (!going) { return false; }
      return fetch(options.endpoint, {
        method: "POST", credentials: "same-origin", redirect: "manual",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ records: chunk })
      }).then(function (response) {
        state.refused = !response.ok;
        if (!response.ok) { return false; }
        return response.json().then(function (answer) { return settle(answer.results); }).then(function () { return true; });
      });
    }

    // "N waiting" (or "all sent"), and why nothing goes: no network, or the server refused.
    function status(waitingNode, netNode, t) {
      return all("outbox").then(function (waiting) {
        waitingNode.textContent = waiting.length ? t("waiting", waiting.length) : t("all_sent");
        netNode.textContent = !navigator.onLine ? t("offline") : state.refused && waiting.length ? t("refused") : "";
        return waiting.length;
      });
    }

    window.addEventListener("online", sync);
    window.addEventListener("offline", options.changed);
    setInterval(sync, RETRY_MS);
    return { add: add, all: all, sync: sync, status: status };
  }

  // Keeps the pages under scope, and the given urls, for the next visit without signal.
  function keep(scope, urls) {
    if (!("serviceWorker" in navigator) || !window.caches || !navigator.onLine) { return Promise.resolve(); }
    return navigator.serviceWorker.register("/web/door-sw.js", { scope: scope }).then(function () {
      return caches.open(CACHE);
    }).then(function (cache) {
      return Promise.all(urls.map(function (url) {
        // The header names the background copy, so a first load's weight can leave it out.
        var asked = { credentials: "same-origin", redirect: "manual", headers: { "X-Door-Keep": "1" } };
        return fetch(url, asked).then(function (response) {
          return response.ok ? cache.put(url, response) : null;
        }).catch(function () { return null; });
      })).then(function () { return forgetOldFiles(cache, urls); });
    }).catch(function () { return null; });
  }

  // Earlier versions of the files kept here are no longer linked from any page; files only the
  // other pages keep (door or visits) stay.
  function forgetOldFiles(cache, urls) {
    var paths = urls.map(function (url) { return url.split("?")[0]; });
    return cache.keys().then(function (requests) {
      return Promise.all(requests.filter(function (request) {
        var url = new URL(request.url);
        return url.pathname.indexOf("/web/static/") === 0 && paths.indexOf(url.pathname) >= 0 &&
          urls.indexOf(url.pathname + url.search) < 0;
      }).map(function (request) { return cache.delete(request); }));
    });
  }

  // A page's texts, from its data-t-* attributes.
  function texts(root) {
    return function (key, n) {
      var text = root.getAttribute("data-t-" + key.replace(/_/g, "-")) || key;
      return n === undefined ? text : text.replace("{n}", String(n));
    };
  }

  window.coordinatorOutbox = { open: open, keep: keep, texts: texts };
})();
