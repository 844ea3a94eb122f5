/** The moment a browser page may be going away: hidden (tab switch, app switch) or unloaded. */

/** True where there is a page to hide: a browser window with a document. */
export function inBrowser(): boolean {
  return typeof window !== "undefined" && typeof document !== "undefined";
}

/**
 * Call `listener` whenever the page becomes hidden or is being unloaded (`visibilitychange` to
 * hidden, `pagehide`); mobile browsers may kill a hidden page without any further event, so
 * hiding is the last safe moment to send. Returns the function that removes the listeners.
 */
export function onPageHide(listener: () => void): () => void {
  if (!inBrowser()) {
    return () => {};
  }
  const onVisibility = (): void => {
    if (document.visibilityState === "hidden") {
      listener();
    }
  };
  document.addEventListener("visibilitychange", onVisibility);
  window.addEventListener("pagehide", listener);
  return () => {
    document.removeEventListener("visibilitychange", onVisibility);
    window.removeEventListener("pagehide", listener);
  };
}
