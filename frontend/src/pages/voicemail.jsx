// Voicemail boxes and their messages: play, mark handled, call back.
// Boxes refresh every 15 s (a new message needs no reload).
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api } from "../api.js";

const root = document.getElementById("voicemail");
const BOXES_API = root.dataset.boxesApi;
const MESSAGES_API = (box) => `${BOXES_API}${box}/messages/`;
const MESSAGE_API = (id, action) => `${BOXES_API.replace(/boxes\/$/, "")}messages/${id}/${action}/`;
const canEditBoxes = root.dataset.canEditBoxes === "true";

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

function BoxList({ boxes, selected, onSelect }) {
  return (
    <ul class="boxes" data-boxes>
      {boxes.map((box) => (
        <li>
          <button type="button" class={box.id === selected ? "selected" : ""} data-box={box.id} onClick={() => onSelect(box.id)}>
            <strong>{box.name}</strong>
            <span class={`badge${box.new_count ? " new" : ""}`} data-new-count>{box.new_count} new</span>
            <small class="hint">{box.total_count} in all</small>
          </button>
        </li>
      ))}
      {boxes.length === 0 && <li class="hint">No voicemail boxes yet.</li>}
    </ul>
  );
}

function BoxSettings({ box, onSaved }) {
  const [number, setNumber] = useState(box.callback_number || "");
  const [error, setError] = useState("");
  useEffect(() => setNumber(box.callback_number || ""), [box.id]);
  const save = async () => {
    const result = await api(`${BOXES_API}${box.id}/`, "PATCH", { callback_number: number });
    setError(result.error);
    if (result.ok) onSaved();
  };
  return (
    <div class="row box-settings">
      <label class="field"><span>Call back from</span>
        <input name="callback-number" value={number} placeholder="the number the caller dialled"
          onInput={(e) => setNumber(e.target.value)} /></label>
      <button type="button" onClick={save}>Save</button>
      {error && <span class="error">{error}</span>}
    </div>
  );
}

function MessageRow({ message, phone, onChanged }) {
  const [error, setError] = useState("");
  const latest = message.callbacks[0];
  const act = async (action, body) => {
    const result = await api(MESSAGE_API(message.id, action), "POST", body);
    setError(result.error);
    onChanged();
  };
  return (
    <tr data-voicemail={message.id} data-status={message.status}>
      <td>{message.from_number}{message.caller_name && message.caller_name !== message.from_number &&
        <div class="hint">{message.caller_name}</div>}</td>
      <td>{when(message.created_at)}</td>
      <td>{message.duration_seconds} s</td>
      <td>{message.audio_url
        ? <audio controls preload="none" src={message.audio_url} />
        : <span class="hint">{message.recording_status === "failed" ? "audio unavailable" : "audio on its way…"}</span>}</td>
      <td>
        <span class={`badge ${message.status}`}>{message.status}</span>
        {message.handled_by && <div class="hint">by {message.handled_by}, {when(message.handled_at)}</div>}
      </td>
      <td class="actions">
        {message.status === "new"
          ? <button type="button" data-handle onClick={() => act("handle", { handled: true })}>Mark handled</button>
          : <button type="button" class="link" data-reopen onClick={() => act("handle", { handled: false })}>Reopen</button>}
        <button type="button" data-callback onClick={() => act("callback", { phone })}>Call back</button>
        {latest && <div class="hint" data-callback-status>{latest.status_label}</div>}
        {error && <div class="error">{error}</div>}
      </td>
    </tr>
  );
}

function Voicemail() {
  const [boxes, setBoxes] = useState([]);
  const [selected, setSelected] = useState(null);
  const [messages, setMessages] = useState([]);
  const [onlyNew, setOnlyNew] = useState(true);
  const [phone, setPhone] = useState(root.dataset.callbackPhone || "");
  const phoneEditable = root.dataset.phoneEditable === "true";
  const [error, setError] = useState("");

  const loadBoxes = async () => {
    const result = await api(BOXES_API);
    if (!result.ok) return setError(result.error);
    setBoxes(result.data);
    if (selected === null && result.data.length) setSelected(result.data[0].id);
  };
  const loadMessages = async () => {
    if (selected === null) return;
    const result = await api(MESSAGES_API(selected) + (onlyNew ? "?status=new" : ""));
    if (result.ok) setMessages(result.data);
    else setError(result.error);
  };
  const refresh = () => { loadBoxes(); loadMessages(); };

  useEffect(() => { loadBoxes(); }, []);
  useEffect(() => { loadMessages(); }, [selected, onlyNew]);
  useEffect(() => {
    const timer = setInterval(refresh, 15000);
    return () => clearInterval(timer);
  }, [selected, onlyNew]);

  const box = boxes.find((b) => b.id === selected);
  return (
    <div class="voicemail">
      <aside class="card">
        <h2>Boxes</h2>
        <BoxList boxes={boxes} selected={selected} onSelect={setSelected} />
      </aside>
      <section class="card">
        <div class="row">
          <h2>{box ? box.name : "Messages"}</h2>
          <span class="spacer" />
          <label class="check"><input type="checkbox" name="only-new" checked={onlyNew}
            onChange={(e) => setOnlyNew(e.target.checked)} /> New only</label>
          <label class="field inline"><span>Your phone</span>
            <input name="callback-phone" value={phone} placeholder={phoneEditable ? "+1… or sip:you@…" : "no phone on your agent profile"}
              readOnly={!phoneEditable} title={phoneEditable ? "" : "Call-backs ring the phone on your agent profile"}
              onInput={(e) => setPhone(e.target.value)} /></label>
        </div>
        {box && canEditBoxes && <BoxSettings box={box} onSaved={loadBoxes} />}
        {error && <p class="error">{error}</p>}
        <table class="voicemails">
          <thead><tr><th>From</th><th>Received</th><th>Length</th><th>Message</th><th>Status</th><th /></tr></thead>
          <tbody>
            {messages.map((m) => <MessageRow key={m.id} message={m} phone={phone} onChanged={refresh} />)}
            {messages.length === 0 && <tr class="empty"><td colspan="6">No {onlyNew ? "new " : ""}messages.</td></tr>}
          </tbody>
        </table>
      </section>
    </div>
  );
}

root.replaceChildren(); // the "loading" hint
render(<Voicemail />, root);
