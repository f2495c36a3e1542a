// The IVR flow builder: an admin edits a flow's nodes and saves the whole flow
// through the API (/api/ivr/flows/). The server checks the flow as a graph and
// answers with errors that name their node; they are shown next to that node.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api } from "../api.js";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const KIND_LABELS = {
  menu: "Menu", message: "Message", queue: "Enqueue", forward: "Forward", voicemail: "Voicemail",
  hangup: "Hang up", hours: "Business hours",
};
const tts = (text = "") => ({ type: "tts", text, voice: "", language: "" });

function kindDefaults(kind) {
  switch (kind) {
    case "menu":
      return { prompt: tts(), options: [{ digits: "1", speech: "", next: "" }], fallback: "", timeout_secs: 5,
        max_tries: 3, speech: false, invalid_prompt: null, timeout_prompt: null };
    case "message": return { prompt: tts(), next: "" };
    case "queue": return { prompt: null, queue: null, priority: 0 };
    case "forward": return { prompt: null, to: "", timeout_secs: 30, no_answer: "" };
    case "voicemail": return { prompt: null, queue: null, max_length_secs: 120, finish_key: "#" };
    case "hours":
      return { prompt: null, open: "", closed: "", hours: {
        timezone: "UTC", holidays: [],
        weekly: Object.fromEntries(DAYS.slice(0, 5).map((d) => [d, [["09:00", "17:00"]]])) } };
    default: return { prompt: null };
  }
}

// Settings that name another node: renaming a key follows them.
const LINK_FIELDS = ["fallback", "next", "no_answer", "open", "closed"];

function renameKey(flow, from, to) {
  const fix = (value) => (value === from ? to : value);
  return {
    ...flow,
    entry: fix(flow.entry),
    fallback: fix(flow.fallback),
    nodes: flow.nodes.map((node) => {
      const copy = { ...node };
      for (const field of LINK_FIELDS) if (field in copy) copy[field] = fix(copy[field]);
      if (copy.options) copy.options = copy.options.map((o) => ({ ...o, next: fix(o.next) }));
      return copy;
    }),
  };
}

// --- small inputs -------------------------------------------------------------------
function Field({ label, children, hint }) {
  return (
    <label class="field">
      <span>{label}</span>
      {children}
      {hint && <small class="hint">{hint}</small>}
    </label>
  );
}

function NodeSelect({ name, value, nodes, onChange, empty = "— choose —" }) {
  return (
    <select name={name} value={value || ""} onChange={(e) => onChange(e.target.value)}>
      <option value="">{empty}</option>
      {nodes.map((n) => <option value={n.key}>{n.key}{n.name ? ` — ${n.name}` : ""}</option>)}
    </select>
  );
}

function PromptEditor({ name, label, value, onChange, optional, languages }) {
  const type = value ? value.type : "";
  const set = (changes) => onChange({ ...value, ...changes });
  return (
    <fieldset class="prompt" data-prompt={name}>
      <legend>{label}</legend>
      <select name={`${name}-type`} value={type}
        onChange={(e) => onChange(e.target.value === "" ? null : e.target.value === "audio"
          ? { type: "audio", url: "" } : tts(value && value.text ? value.text : ""))}>
        {optional && <option value="">None</option>}
        <option value="tts">Text to speech</option>
        <option value="audio">Audio file</option>
      </select>
      {type === "tts" && (
        <>
          <textarea name={`${name}-text`} rows="2" value={value.text}
            placeholder="Text, or SSML starting with <speak>"
            onInput={(e) => set({ text: e.target.value })} />
          <div class="row">
            <input name={`${name}-voice`} value={value.voice || ""} placeholder="Voice (flow default)"
              onInput={(e) => set({ voice: e.target.value })} />
            <select name={`${name}-language`} value={value.language || ""} onChange={(e) => set({ language: e.target.value })}>
              <option value="">Language (flow default)</option>
              {languages.map((l) => <option value={l}>{l}</option>)}
            </select>
          </div>
        </>
      )}
      {type === "audio" && (
        <input name={`${name}-url`} value={value.url || ""} placeholder="https://…/prompt.mp3"
          onInput={(e) => set({ url: e.target.value })} />
      )}
    </fieldset>
  );
}

function QueueSelect({ value, queues, onChange, empty }) {
  return (
    <select name="queue" value={value ?? ""} onChange={(e) => onChange(e.target.value ? Number(e.target.value) : null)}>
      <option value="">{empty}</option>
      {queues.map((q) => <option value={q.id}>{q.name}</option>)}
    </select>
  );
}

// --- kinds --------------------------------------------------------------------------
function MenuEditor({ node, set, nodes, languages }) {
  const options = node.options || [];
  const setOption = (i, changes) => set({ options: options.map((o, j) => (j === i ? { ...o, ...changes } : o)) });
  return (
    <>
      <table class="options">
        <thead><tr><th>Keys</th>{node.speech && <th>Or say</th>}<th>Goes to</th><th /></tr></thead>
        <tbody>
          {options.map((option, i) => (
            <tr data-option-index={i}>
              <td><input name="digits" size="4" value={option.digits} onInput={(e) => setOption(i, { digits: e.target.value })} /></td>
              {node.speech && <td><input name="speech" value={option.speech || ""} placeholder="sales, buy"
                onInput={(e) => setOption(i, { speech: e.target.value })} /></td>}
              <td><NodeSelect name="next" value={option.next} nodes={nodes} onChange={(v) => setOption(i, { next: v })} /></td>
              <td><button type="button" class="link" onClick={() => set({ options: options.filter((_, j) => j !== i) })}>remove</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" data-add-option
        onClick={() => set({ options: [...options, { digits: String(options.length + 1), speech: "", next: "" }] })}>
        Add option
      </button>
      <div class="row">
        <Field label="After the last try"><NodeSelect name="fallback" value={node.fallback} nodes={nodes} onChange={(v) => set({ fallback: v })} /></Field>
        <Field label="Tries"><input name="max_tries" type="number" min="1" max="10" value={node.max_tries}
          onInput={(e) => set({ max_tries: Number(e.target.value) })} /></Field>
        <Field label="Wait for keys (s)"><input name="timeout_secs" type="number" min="1" max="60" value={node.timeout_secs}
          onInput={(e) => set({ timeout_secs: Number(e.target.value) })} /></Field>
        <label class="check"><input name="speech-enabled" type="checkbox" checked={!!node.speech}
          onChange={(e) => set({ speech: e.target.checked })} /> Callers may say an option</label>
      </div>
      <PromptEditor name="invalid_prompt" label="On a wrong key (optional)" optional value={node.invalid_prompt}
        onChange={(v) => set({ invalid_prompt: v })} languages={languages} />
      <PromptEditor name="timeout_prompt" label="When nothing is pressed (optional)" optional value={node.timeout_prompt}
        onChange={(v) => set({ timeout_prompt: v })} languages={languages} />
    </>
  );
}

function HoursEditor({ node, set, nodes }) {
  const hours = node.hours || { timezone: "UTC", weekly: {}, holidays: [] };
  const [texts, setTexts] = useState(() => Object.fromEntries(
    DAYS.map((d) => [d, ((hours.weekly || {})[d] || []).map(([s, e]) => `${s}-${e}`).join(", ")])));
  const setHours = (changes) => set({ hours: { ...hours, ...changes } });
  const setDay = (day, text) => {
    setTexts({ ...texts, [day]: text });
    const intervals = text.split(",").map((p) => p.trim()).filter(Boolean).map((p) => {
      const [start, end] = p.split("-").map((v) => v.trim());
      return [start || "", end || ""];
    });
    setHours({ weekly: { ...(hours.weekly || {}), [day]: intervals } });
  };
  return (
    <>
      <Field label="Time zone"><input name="timezone" list="ivr-time-zones" value={hours.timezone}
        onInput={(e) => setHours({ timezone: e.target.value })} /></Field>
      <div class="week">
        {DAYS.map((day) => (
          <label class="day"><span>{day}</span><input name={`hours-${day}`} value={texts[day]} placeholder="closed"
            onInput={(e) => setDay(day, e.target.value)} /></label>
        ))}
      </div>
      <Field label="Holidays (closed all day)" hint="YYYY-MM-DD, separated by commas or new lines">
        <textarea name="holidays" rows="2" value={(hours.holidays || []).join("\n")}
          onInput={(e) => setHours({ holidays: e.target.value.split(/[\s,]+/).filter(Boolean) })} />
      </Field>
      <div class="row">
        <Field label="When open"><NodeSelect name="open" value={node.open} nodes={nodes} onChange={(v) => set({ open: v })} /></Field>
        <Field label="When closed"><NodeSelect name="closed" value={node.closed} nodes={nodes} onChange={(v) => set({ closed: v })} /></Field>
      </div>
    </>
  );
}

function KindEditor({ node, set, nodes, choices }) {
  switch (node.kind) {
    case "menu":
      return <MenuEditor node={node} set={set} nodes={nodes} languages={choices.languages} />;
    case "message":
      return <Field label="Then"><NodeSelect name="next" value={node.next} nodes={nodes} empty="Hang up" onChange={(v) => set({ next: v })} /></Field>;
    case "queue":
      return (
        <>
          <Field label="Queue"><QueueSelect value={node.queue} queues={choices.queues} empty="— choose —" onChange={(v) => set({ queue: v })} /></Field>
          <Field label="Caller priority" hint="0 = usual; higher is served before callers who waited longer">
            <input name="priority" type="number" min="0" max="100" value={node.priority ?? 0}
              onInput={(e) => set({ priority: Number(e.target.value) })} /></Field>
        </>
      );
    case "forward":
      return (
        <div class="row">
          <Field label="Forward to" hint="+13125550100 or sip:desk@example.com">
            <input name="to" value={node.to} onInput={(e) => set({ to: e.target.value })} /></Field>
          <Field label="Ring for (s)"><input name="timeout_secs" type="number" value={node.timeout_secs}
            onInput={(e) => set({ timeout_secs: Number(e.target.value) })} /></Field>
          <Field label="If nobody answers"><NodeSelect name="no_answer" value={node.no_answer} nodes={nodes}
            empty="Flow fallback / hang up" onChange={(v) => set({ no_answer: v })} /></Field>
        </div>
      );
    case "voicemail":
      return (
        <div class="row">
          <Field label="Box"><QueueSelect value={node.queue} queues={choices.queues} empty="This flow's box"
            onChange={(v) => set({ queue: v })} /></Field>
          <Field label="Longest message (s)"><input name="max_length_secs" type="number" value={node.max_length_secs}
            onInput={(e) => set({ max_length_secs: Number(e.target.value) })} /></Field>
          <Field label="Finish key"><input name="finish_key" size="2" maxLength="1" value={node.finish_key}
            onInput={(e) => set({ finish_key: e.target.value })} /></Field>
        </div>
      );
    case "hours":
      return <HoursEditor node={node} set={set} nodes={nodes} />;
    default:
      return null;
  }
}

function NodeCard({ node, index, nodes, choices, errors, onChange, onRename, onRemove, isEntry }) {
  const set = (changes) => onChange({ ...node, ...changes });
  const promptOptional = !["menu", "message"].includes(node.kind);
  return (
    <section class={`card ivr-node${errors.length ? " has-errors" : ""}`} data-node-index={index} data-node={node.key}>
      <header class="row">
        <Field label="Key"><input name="key" value={node.key} onInput={(e) => onRename(e.target.value)} /></Field>
        <Field label="Name"><input name="name" value={node.name} onInput={(e) => set({ name: e.target.value })} /></Field>
        <Field label="Kind">
          <select name="kind" value={node.kind}
            onChange={(e) => onChange({ key: node.key, name: node.name, _uid: node._uid, kind: e.target.value,
              ...kindDefaults(e.target.value) })}>
            {Object.entries(KIND_LABELS).map(([value, label]) => <option value={value}>{label}</option>)}
          </select>
        </Field>
        {isEntry && <span class="badge entry">start</span>}
        <button type="button" class="link danger-link" data-remove-node onClick={onRemove}>Delete node</button>
      </header>
      {errors.length > 0 && (
        <ul class="errors" data-node-errors>{errors.map((e) => <li class="error">{e.text || e.message}</li>)}</ul>
      )}
      {node.kind !== "hours" && (
        <PromptEditor name="prompt" label={promptOptional ? "Prompt (optional)" : "Prompt"} optional={promptOptional}
          value={node.prompt} onChange={(v) => set({ prompt: v })} languages={choices.languages} />
      )}
      <KindEditor node={node} set={set} nodes={nodes} choices={choices} />
    </section>
  );
}

function NumbersPanel({ flow, choices, onChanged }) {
  const [picked, setPicked] = useState("");
  const [error, setError] = useState("");
  const mine = choices.numbers.filter((n) => n.ivr === flow.id);
  const others = choices.numbers.filter((n) => n.ivr !== flow.id);
  const act = async (url, method, body) => {
    const result = await api(url, method, body);
    setError(result.ok ? "" : (result.data && (result.data.message || JSON.stringify(result.data))) || "Failed");
    if (result.ok) onChanged();
  };
  return (
    <section class="card" data-numbers>
      <h2>Numbers using this flow</h2>
      <ul>
        {mine.map((n) => (
          <li data-number={n.e164}>{n.e164} {n.label}
            <button type="button" class="link" onClick={() => act(`${flowApiOf(flow)}numbers/${n.id}/`, "DELETE")}>stop using</button>
          </li>
        ))}
        {mine.length === 0 && <li class="hint">No number routes here yet.</li>}
      </ul>
      <div class="row">
        <select name="assign-number" value={picked} onChange={(e) => setPicked(e.target.value)}>
          <option value="">— a number —</option>
          {others.map((n) => <option value={n.id}>{n.e164} {n.label} ({n.route})</option>)}
        </select>
        <button type="button" disabled={!picked} data-assign-number
          onClick={() => act(`${flowApiOf(flow)}numbers/`, "POST", { number: Number(picked) })}>Route it here</button>
      </div>
      {error && <p class="error">{error}</p>}
    </section>
  );
}

const root = document.getElementById("ivr-builder");
let uid = 0;
// A stable identity per node card while keys are being typed (never sent).
const withUids = (flow) => ({ ...flow, nodes: flow.nodes.map((n) => ({ ...n, _uid: ++uid })) });
const flowApiOf = (flow) => `${root.dataset.listApi}${flow.id}/`;

function Builder({ initial }) {
  const [flow, setFlow] = useState(withUids(initial || {
    name: "", description: "", entry: "", fallback: "", max_steps: 50, voice: "", language: "", nodes: [],
  }));
  const [choices, setChoices] = useState({ queues: [], numbers: [], languages: [], time_zones: [] });
  const [errors, setErrors] = useState([]);
  const [status, setStatus] = useState("");
  const [newKind, setNewKind] = useState("menu");
  const [saving, setSaving] = useState(false);

  const loadChoices = async () => {
    const result = await api(root.dataset.choicesApi);
    if (result.ok) setChoices(result.data);
  };
  useEffect(() => { loadChoices(); }, []);

  const setNode = (i, node) => setFlow({ ...flow, nodes: flow.nodes.map((n, j) => (j === i ? node : n)) });
  const renameNode = (i, key) => {
    // References follow the key as it is typed; while the field is empty they
    // keep pointing at the last key (so clearing and retyping loses nothing).
    const node = flow.nodes[i];
    const last = node._ref ?? node.key;
    const renamed = key && last ? renameKey(flow, last, key) : { ...flow, nodes: [...flow.nodes] };
    renamed.nodes[i] = { ...renamed.nodes[i], key, _ref: key || last };
    setFlow(renamed);
  };
  const addNode = () => {
    let n = flow.nodes.length + 1;
    while (flow.nodes.some((node) => node.key === `${newKind}${n}`)) n += 1;
    const node = { key: `${newKind}${n}`, name: "", kind: newKind, ...kindDefaults(newKind), _uid: ++uid };
    setFlow({ ...flow, entry: flow.entry || node.key, nodes: [...flow.nodes, node] });
  };

  const save = async () => {
    setSaving(true);
    setStatus("Saving…");
    const { id, numbers, updated_at, ...body } = flow;
    body.nodes = flow.nodes.map(({ _uid, _ref, ...node }) => node);
    const result = flow.id ? await api(flowApiOf(flow), "PUT", body) : await api(root.dataset.listApi, "POST", body);
    setSaving(false);
    if (result.ok) {
      setFlow(withUids(result.data));
      setErrors([]);
      setStatus(`Saved (version ${result.data.version}).`);
      if (!flow.id) history.replaceState(null, "", `${root.dataset.flowPage}${result.data.id}/`);
      loadChoices();
    } else {
      const data = result.data || {};
      setErrors((data.extra && data.extra.errors) || []);
      setStatus(data.message || (data.detail ? String(data.detail) : `Not saved (HTTP ${result.status}).`));
    }
  };

  const flowErrors = errors.filter((e) => !e.node);
  const errorsFor = (node, i) => errors.filter((e) => e.node && (e.node === node.key || e.node === `#${i + 1}`));
  const nodes = flow.nodes;
  return (
    <form class="ivr-builder" onSubmit={(e) => { e.preventDefault(); save(); }}>
      <section class="card">
        <h1>{flow.id ? flow.name || "Flow" : "New flow"}</h1>
        <div class="row">
          <Field label="Name"><input name="flow-name" value={flow.name} onInput={(e) => setFlow({ ...flow, name: e.target.value })} /></Field>
          <Field label="Starts at"><NodeSelect name="flow-entry" value={flow.entry} nodes={nodes} onChange={(v) => setFlow({ ...flow, entry: v })} /></Field>
          <Field label="Step limit" hint="then the fallback runs">
            <input name="flow-max-steps" type="number" min="5" max="500" value={flow.max_steps}
              onInput={(e) => setFlow({ ...flow, max_steps: Number(e.target.value) })} /></Field>
          <Field label="Step-limit fallback"><NodeSelect name="flow-fallback" value={flow.fallback} nodes={nodes}
            empty="Hang up" onChange={(v) => setFlow({ ...flow, fallback: v })} /></Field>
        </div>
        <div class="row">
          <Field label="Description"><input name="flow-description" value={flow.description}
            onInput={(e) => setFlow({ ...flow, description: e.target.value })} /></Field>
          <Field label="Default voice" hint="e.g. Telnyx.KokoroTTS.af, female">
            <input name="flow-voice" value={flow.voice} onInput={(e) => setFlow({ ...flow, voice: e.target.value })} /></Field>
          <Field label="Default language" hint="spoken by the female and male voices; with no voice set, the female voice speaks it">
            <select name="flow-language" value={flow.language} onChange={(e) => setFlow({ ...flow, language: e.target.value })}>
              <option value="">—</option>
              {choices.languages.map((l) => <option value={l}>{l}</option>)}
            </select></Field>
        </div>
        {flowErrors.length > 0 && (
          <ul class="errors" data-flow-errors>{flowErrors.map((e) => <li class="error">{e.text || e.message}</li>)}</ul>
        )}
      </section>
      {nodes.map((node, i) => (
        <NodeCard key={node._uid} node={node} index={i} nodes={nodes} choices={choices} errors={errorsFor(node, i)}
          isEntry={flow.entry === node.key} onChange={(n) => setNode(i, n)} onRename={(key) => renameNode(i, key)}
          onRemove={() => setFlow({ ...flow, nodes: nodes.filter((_, j) => j !== i) })} />
      ))}
      <section class="card row toolbar">
        <select name="new-node-kind" value={newKind} onChange={(e) => setNewKind(e.target.value)}>
          {Object.entries(KIND_LABELS).map(([value, label]) => <option value={value}>{label}</option>)}
        </select>
        <button type="button" data-add-node onClick={addNode}>Add node</button>
        <span class="spacer" />
        <span data-save-status class={errors.length ? "error" : "hint"}>{status}</span>
        <button type="submit" class="primary" data-save disabled={saving}>Save flow</button>
      </section>
      {flow.id && <NumbersPanel flow={flow} choices={choices} onChanged={loadChoices} />}
      <datalist id="ivr-time-zones">{choices.time_zones.map((z) => <option value={z} />)}</datalist>
    </form>
  );
}

const documentNode = document.getElementById("ivr-flow-document");
root.replaceChildren(); // the "loading" hint
render(<Builder initial={JSON.parse(documentNode.textContent)} />, root);
