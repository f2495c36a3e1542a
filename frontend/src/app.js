// Entry point: mount the components a page declares with data-component.
// Heavy components are loaded on demand so every page stays light.
import { onLive } from "./live.js";

const components = {
  "calls-board": () => import("./calls-board.js").then((m) => m.mountCallsBoard),
};

export function registerComponent(name, loader) {
  components[name] = loader;
}

async function mountAll() {
  for (const el of document.querySelectorAll("[data-component]")) {
    const loader = components[el.dataset.component];
    if (loader && !el.dataset.mounted) {
      el.dataset.mounted = "1";
      (await loader())(el);
    }
  }
  // Any logged-in page shows whether live updates are flowing.
  if (document.querySelector("[data-live-status]")) onLive(() => {});
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
else mountAll();
