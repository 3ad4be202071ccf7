/*
 * draw_story.js: the script of the page `ptlab draw story` writes (the boot
 * story): one step shown at a time, chosen by the buttons, the arrow keys or
 * the address's #fragment. Without the script every step is shown in turn.
 * Embedded into the tool by the build (scripts/embed-text).
 */
"use strict";
(function () {
  const steps = Array.from(document.querySelectorAll("section.step"));
  const nav = document.getElementById("steps");
  const buttons = steps.map((sec, k) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = (k + 1) + ". " + sec.dataset.name;
    b.onclick = () => show(k);
    nav.appendChild(b);
    return b;
  });
  let current = 0;

  function show(k) {
    current = Math.max(0, Math.min(steps.length - 1, k));
    steps.forEach((sec, j) => sec.classList.toggle("hidden", j !== current));
    buttons.forEach((b, j) => b.classList.toggle("on", j === current));
    if (location.hash !== "#" + steps[current].id)
      history.replaceState(null, "", "#" + steps[current].id);
  }

  document.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowRight") show(current + 1);
    if (ev.key === "ArrowLeft") show(current - 1);
  });
  const start = steps.findIndex((sec) => "#" + sec.id === location.hash);
  show(start < 0 ? 0 : start);
  window.ptlabReady = performance.now();
})();
