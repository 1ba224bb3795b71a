// humanllm view: verdict -> evidence highlighting, and annotation mode's saving. No framework, no build step.
(function () {
  "use strict";

  function highlight(verdict) {
    document.querySelectorAll("li.turn.evidence").forEach(function (t) { t.classList.remove("evidence"); });
    document.querySelectorAll("li.verdict.selected").forEach(function (v) { v.classList.remove("selected"); });
    verdict.classList.add("selected");
    var scope = verdict.closest(".side") || document;
    var first = null;
    (verdict.dataset.turns || "").split(" ").filter(Boolean).forEach(function (n) {
      var turn = scope.querySelector('li.turn[data-turn="' + n + '"]');
      if (turn) { turn.classList.add("evidence"); first = first || turn; }
    });
    if (first && first.scrollIntoView) { first.scrollIntoView({ block: "center", behavior: "smooth" }); }
  }

  document.addEventListener("click", function (event) {
    var verdict = event.target.closest && event.target.closest("li.verdict");
    if (verdict) { highlight(verdict); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches && event.target.matches("li.verdict")) { highlight(event.target); }
  });

  var list = document.querySelector("ul.rate-items");
  if (!list) { return; }
  var raterInput = document.getElementById("rater");
  if (raterInput && !raterInput.value && window.localStorage) {
    raterInput.value = localStorage.getItem("humanllm-rater") || "";
  }
  function save(item, score) {
    var rater = raterInput ? raterInput.value.trim() : "";
    if (window.localStorage) { localStorage.setItem("humanllm-rater", rater); }
    var status = item.querySelector(".saved");
    status.textContent = "saving…";
    status.classList.remove("failed");
    fetch("/api/f/" + list.dataset.folder + "/ratings", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        episode_id: list.dataset.episode, character: list.dataset.character,
        item_id: item.dataset.item, score: score, rater: rater
      })
    }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) { throw new Error(body.error || response.statusText); }
        status.textContent = "saved";
      });
    }).catch(function (error) { status.textContent = "not saved: " + error.message; status.classList.add("failed"); });
  }
  list.addEventListener("change", function (event) {
    var item = event.target.closest("li.rate-item");
    if (item && event.target.value !== "") { save(item, event.target.value); }
  });
})();
