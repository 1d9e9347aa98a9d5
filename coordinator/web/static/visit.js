// Home visits without signal: the itinerary and its record forms are kept by door-sw.js, and a
// saved visit waits in IndexedDB with its device time until the server has it (outbox.js, the
// door page's store and sync).
(function () {
  "use strict";
  var root = document.getElementById("visit-offline");
  if (!root) { return; }
  var eventId = Number(root.dataset.event);
  var itinerary = "/web/visits/itineraries/" + eventId;
  var t = window.coordinatorOutbox.texts(root);
  var outbox = window.coordinatorOutbox.open({
    name: "coordinator-visits", endpoint: "/web/visits/batch", eventId: eventId, time: "visited_at",
    changed: show, token: token
  });

  // A fresh form token also proves the session is alive; without one the records wait.
  function token() {
    return fetch("/web/visits/token", { credentials: "same-origin", redirect: "manual" }).then(function (response) {
      var json = (response.headers.get("content-type") || "").indexOf("json") >= 0;
      return response.ok && json ? response.json().then(function (answer) { return answer.csrf; }) : null;
    }).catch(function () { return null; });
  }

  function outcomeText(line) {
    if (!line.outcome) { return t("pending"); }
    if (line.outcome === "rejected") { return t("rejected") + ": " + (line.message || ""); }
    return t(line.outcome);
  }

  function show() {
    var status = outbox.status(document.getElementById("visit-waiting"), document.getElementById("visit-net"), t);
    return Promise.all([status, outbox.all("log")]).then(function (stores) {
      var lines = stores[1].filter(function (line) { return line.event_id === eventId; });
      lines.sort(function (a, b) { return a.at < b.at ? -1 : a.at > b.at ? 1 : 0; });
      var log = document.getElementById("visit-log");
      if (log) { log.textContent = ""; }
      lines.forEach(function (line) {
        var text = line.label + " · " + line.what + " · " + new Date(line.at).toLocaleTimeString() + " · " + outcomeText(line);
        if (log) {
          var item = document.createElement("li");
          item.textContent = text;
          item.setAttribute("data-client-id", line.client_id);
          item.setAttribute("data-outcome", line.outcome || "pending");
          log.insertBefore(item, log.firstChild);
        }
        // Lines go oldest first, so a resident's newest record is what stays shown.
        var spot = document.querySelector("[data-resident='" + line.resident_id + "'] .visit-outcome");
        if (spot) { spot.textContent = line.what + " · " + outcomeText(line); }
      });
    });
  }

  function collect(form) {
    var conditions = {};
    var needs = [];
    Array.prototype.forEach.call(form.querySelectorAll("input[type=checkbox]"), function (box) {
      if (box.name.indexOf("c_") === 0) { conditions[box.name.slice(2)] = box.checked; }
      if (box.name.indexOf("n_") === 0 && box.checked) { needs.push(box.name.slice(2)); }
    });
    var action = form.elements.follow_up.value.trim();
    return {
      client_id: crypto.randomUUID(), event_id: eventId, resident_id: Number(form.dataset.resident),
      visited_at: new Date().toISOString(), outcome: form.elements.outcome.value, conditions: conditions,
      needs: needs, notes: form.elements.notes.value.trim() || null,
      follow_ups: action ? [{ action: action, due_on: form.elements.follow_up_due.value }] : []
    };
  }

  // Saving keeps the visit on the phone first, then tries to send it: back to the itinerary
  // unless the server refused it, whose reason then stays on the form.
  var form = document.getElementById("visit-form");
  if (form) {
    form.addEventListener("submit", function (submitted) {
      submitted.preventDefault();
      var payload = collect(form);
      var chosen = form.querySelector("input[name=outcome]:checked");
      var line = {
        event_id: eventId, at: payload.visited_at, label: form.dataset.name,
        what: chosen ? chosen.parentNode.textContent.trim() : payload.outcome, resident_id: payload.resident_id
      };
      form.querySelector("button[type=submit]").disabled = true;
      outbox.add(payload, line).then(function () { return outbox.all("log"); }).then(function (lines) {
        var mine = lines.filter(function (kept) { return kept.client_id === payload.client_id; })[0];
        if (mine && mine.outcome === "rejected") {
          var message = document.getElementById("visit-message");
          message.textContent = outcomeText(mine);
          message.hidden = false;
          form.querySelector("button[type=submit]").disabled = false;
          return;
        }
        location.assign(itinerary);
      });
    });
  }

  window.coordinatorVisits = { sync: outbox.sync };
  show().then(function () {
    window.coordinatorOutbox.keep("/web/visits/itineraries/", [location.pathname].concat(root.dataset.keep.split(" ")));
    return outbox.sync();
  });
})();
