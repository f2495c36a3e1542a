// A table of live calls, kept current by call.updated messages.
import { onLive } from "./live.js";

const STATUS_ORDER = { initiated: 0, answered: 1, ended: 2 };

export function mountCallsBoard(table) {
  const calls = new Map();
  const body = table.querySelector("tbody");
  const detailUrl = table.dataset.detailUrl || "";

  function render() {
    const rows = [...calls.values()].sort(
      (a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || (b.initiated_at || "").localeCompare(a.initiated_at || ""),
    );
    body.replaceChildren(...(rows.length ? rows.map(row) : [emptyRow()]));
  }

  function row(call) {
    const tr = document.createElement("tr");
    tr.dataset.callId = call.id;
    tr.dataset.status = call.status;
    const link = detailUrl ? detailUrl.replace(/0\/$/, `${call.id}/`) : null;
    cells(tr, [
      call.direction,
      call.caller_name ? `${call.from} (${call.caller_name})` : call.from,
      call.to,
      badge(call),
      call.flow || "",
      call.initiated_at ? new Date(call.initiated_at).toLocaleTimeString() : "",
      duration(call),
    ]);
    if (link) {
      const a = document.createElement("a");
      a.href = link;
      a.textContent = tr.children[1].textContent;
      tr.children[1].replaceChildren(a);
    }
    return tr;
  }

  onLive((message) => {
    if (message.type === "hello") {
      calls.clear();
      for (const call of message.calls || []) calls.set(call.id, call);
      render();
    } else if (message.type === "call.updated") {
      const known = calls.get(message.call.id);
      if (!known || known.version < message.call.version) {
        calls.set(message.call.id, message.call);
        render();
      }
    }
  });
  setInterval(() => calls.size && render(), 1000); // tick durations
}

function cells(tr, values) {
  for (const value of values) {
    const td = document.createElement("td");
    if (value instanceof Node) td.append(value);
    else td.textContent = value;
    tr.append(td);
  }
}

function badge(call) {
  const span = document.createElement("span");
  span.className = `badge ${call.status}`;
  span.textContent = call.outcome ? `${call.status_label} · ${call.outcome.replace("_", " ")}` : call.status_label;
  return span;
}

function duration(call) {
  const start = call.answered_at || call.initiated_at;
  if (!start) return "";
  const end = call.ended_at ? new Date(call.ended_at) : new Date();
  const s = Math.max(0, Math.round((end - new Date(start)) / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function emptyRow() {
  const tr = document.createElement("tr");
  tr.className = "empty";
  tr.innerHTML = '<td colspan="7">No calls in the last minutes.</td>';
  return tr;
}
