// Applies the saved theme before the first paint, so a dark-mode user never sees a white
// flash. A plain script (not part of the bundle) because it must run before the page renders.
(function () {
  try {
    var saved = localStorage.getItem("storeplane-theme");
    var dark = saved ? saved === "dark" : matchMedia("(prefers-color-scheme: dark)").matches;
    if (dark) document.documentElement.classList.add("dark");
  } catch (e) {
    // Storage unavailable: follow the system.
  }
})();
