// Keeps the door pages and their rosters, the home-visit itineraries and their record forms, and
// the versioned static files, for use without signal.
// Pages and rosters: the network first (fresh roster, fresh form token), the kept copy when
// there is no answer. Versioned files never change under one name: the kept copy first.
"use strict";
var CACHE = "coordinator-door-v1"; // outbox.js writes to the same cache
var KEPT = /^\/web\/(events\/\d+\/door(\/roster|\/manifest\.webmanifest)?|visits\/itineraries\/\d+(\/record\/\d+)?)$/;
// A village signal that connects but never answers counts as none after this long.
var PATIENCE_MS = 6000;

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (url.pathname.indexOf("/web/static/") === 0 && url.searchParams.has("v")) {
    event.respondWith(keptFirst(request));
  } else if (KEPT.test(url.pathname)) {
    event.respondWith(networkFirst(request));
  }
});

function keep(request, response) {
  if (response.ok && !response.redirected && response.type === "basic") {
    var copy = response.clone();
    caches.open(CACHE).then(function (cache) { return cache.put(request, copy); });
  }
  return response;
}

function kept(request) {
  return caches.match(request, { ignoreVary: true });
}

function keptFirst(request) {
  return kept(request).then(function (hit) {
    return hit || fetch(request).then(function (response) { return keep(request, response); });
  });
}

function networkFirst(request) {
  var network = fetch(request).then(function (response) { return keep(request, response); });
  var slow = new Promise(function (resolve) { setTimeout(resolve, PATIENCE_MS); }).then(function () {
    return kept(request).then(function (hit) { return hit || network; });
  });
  var fallback = network.catch(function () {
    return kept(request).then(function (hit) { return hit || Response.error(); });
  });
  return Promise.race([fallback, slow]);
}
