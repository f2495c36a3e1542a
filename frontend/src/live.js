// The live websocket: one per page, reconnecting with backoff.
//
// The server sends a "hello" snapshot on connect and versioned deltas after.
// Group sends are at-most-once, so a client that reconnects simply gets a new
// snapshot; listeners see {type: "hello"} and rebuild their view from it.

const listeners = new Set();
let socket = null;
let retry = 0;

export function onLive(fn) {
  listeners.add(fn);
  connect();
  return () => listeners.delete(fn);
}

export function sendLive(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

function setStatus(online) {
  for (const el of document.querySelectorAll("[data-live-status]")) {
    el.textContent = online ? "live" : "offline";
    el.classList.toggle("online", online);
  }
}

function connect() {
  if (socket) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws/live/`);
  socket.addEventListener("open", () => { retry = 0; setStatus(true); });
  socket.addEventListener("message", (e) => {
    const message = JSON.parse(e.data);
    for (const fn of listeners) fn(message);
  });
  socket.addEventListener("close", (e) => {
    socket = null;
    setStatus(false);
    if (e.code === 4401 || e.code === 4403) return; // logged out or no role: do not hammer
    const delay = Math.min(30000, 500 * 2 ** retry++) * (0.75 + Math.random() / 2);
    setTimeout(connect, delay);
  });
}
