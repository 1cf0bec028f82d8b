// Light or dark, remembered per browser; the first paint reads the same key (index.html).

const KEY = "storeplane-theme";

export function isDark(): boolean {
  return document.documentElement.classList.contains("dark");
}

export function setDark(dark: boolean): void {
  document.documentElement.classList.toggle("dark", dark);
  try {
    localStorage.setItem(KEY, dark ? "dark" : "light");
  } catch {
    // Private mode: the choice lasts for this page only.
  }
}
