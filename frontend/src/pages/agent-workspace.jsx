// The agent workspace: status, the queues served with who waits, the incoming
// call card, in-call controls, transfers and wrap-up. Everything arrives on the
// live websocket (a snapshot on connect, then agent.updated / queue.updated /
// offer.updated deltas with versions); the page never polls. Actions are POSTs
// to the API; their effect comes back over the socket like everyone else's.
//
// The phone: with a real Telnyx account and a browser-softphone endpoint, the
// page logs in to Telnyx WebRTC with a short-lived token the server mints
// (never the SIP password) and answers with the SDK. In sandbox mode the
// browser cannot reach a WebRTC gateway, so "Accept" asks the server to answer
// the simulated leg; every other control is the same in both modes.
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { onLive } from "../live.js";
import { api } from "../api.js";

const root = document.getElementById("workspace");
const urls = root.dataset;
const initial = JSON.parse(document.getElementById("workspace-initial").textContent);
const offerUrl = (id, action = "") => urls.offerApi.replace(/0\/$/, `${id}/${action ? `${action}/` : ""}`);
const AWAY_REASONS = ["Break", "Lunch", "Meeting", "Training", "Other"];
const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];

function seconds(since, now) {
  if (!since) return "";
  const total = Math.max(0, Math.round((now - new Date(since).getTime()) / 1000));
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, "0")}`;
}

// Keep the newest version of a thing; an older message arriving late changes nothing.
const newer = (current, next) => !current || current.id !== next.id || (next.version ?? 0) >= (current.version ?? 0);

// --- the phone ---------------------------------------------------------------------
function useSoftphone(agent, sandbox) {
  const [state, setState] = useState({ status: "off", call: null, error: "" });
  const client = useRef(null);
  useEffect(() => {
    if (!agent || agent.endpoint !== "webrtc" || sandbox) return undefined;
    let stopped = false;
    (async () => {
      setState((s) => ({ ...s, status: "connecting" }));
      const token = await api(urls.tokenApi, "POST");
      if (!token.ok || stopped) {
        setState((s) => ({ ...s, status: "error", error: token.error }));
        return;
      }
      const { TelnyxRTC } = await import("@telnyx/webrtc");
      const rtc = new TelnyxRTC({ login_token: token.data.token });
      rtc.remoteElement = "softphone-audio";
      rtc.on("telnyx.ready", () => setState((s) => ({ ...s, status: "ready", error: "" })));
      rtc.on("telnyx.error", (e) => setState((s) => ({ ...s, status: "error", error: String(e?.error?.message || e) })));
      rtc.on("telnyx.socket.close", () => setState((s) => ({ ...s, status: "offline" })));
      rtc.on("telnyx.notification", (n) => {
        if (n.type !== "callUpdate") return;
        const ended = ["hangup", "destroy", "purge"].includes(n.call.state);
        setState((s) => ({ ...s, call: ended ? null : n.call }));
      });
      rtc.connect();
      client.current = rtc;
    })();
    return () => {
      stopped = true;
      if (client.current) client.current.disconnect();
      client.current = null;
    };
  }, [agent?.id, agent?.endpoint, sandbox]);
  return state;
}

// --- pieces of the page -------------------------------------------------------------
function StatusBar({ agent, onError }) {
  const [reason, setReason] = useState(AWAY_REASONS[0]);
  const busy = agent.status === "ringing" || agent.status === "on_call";
  const set = async (status) => {
    const result = await api(urls.statusApi, "POST", { status, reason: status === "away" ? reason : "" });
    onError(result.error);
  };
  return (
    <section class="card status-bar" data-status={agent.status}>
      <div>
        <span class={`badge agent-${agent.status}`} data-agent-status>{agent.status_label}</span>
        {agent.status_reason && <span class="hint"> {agent.status_reason}</span>}
      </div>
      <div class="actions">
        <button type="button" class={agent.status === "available" ? "primary" : ""} disabled={busy}
          data-set-status="available" onClick={() => set("available")}>Available</button>
        <select name="away-reason" value={reason} disabled={busy} onChange={(e) => setReason(e.target.value)}>
          {AWAY_REASONS.map((r) => <option value={r}>{r}</option>)}
        </select>
        <button type="button" disabled={busy} data-set-status="away" onClick={() => set("away")}>Away</button>
        <button type="button" disabled={busy} data-set-status="offline" onClick={() => set("offline")}>Offline</button>
      </div>
    </section>
  );
}

function Queues({ queues, now }) {
  return (
    <section class="card">
      <h2>Your queues</h2>
      <table data-my-queues>
        <thead><tr><th>Queue</th><th>Waiting</th><th>Longest</th><th>Agents free</th></tr></thead>
        <tbody>
          {queues.map((q) => (
            <tr data-queue={q.name}>
              <td>{q.name}</td>
              <td data-waiting>{q.waiting}{q.callbacks ? <small class="hint"> ({q.callbacks} call-back)</small> : null}</td>
              <td>{q.waiting ? `${q.longest_wait_secs} s` : "–"}</td>
              <td>{q.agents.available} / {q.agents.total}</td>
            </tr>
          ))}
          {queues.length === 0 && <tr class="empty"><td colspan="4">You are in no queue yet.</td></tr>}
        </tbody>
      </table>
    </section>
  );
}

function Card({ card, answeredAt, now }) {
  // How long the caller waited: still counting while the phone rings, fixed once answered.
  const waitedUntil = answeredAt ? new Date(answeredAt).getTime() : now;
  return (
    <div class="call-card" data-call-card>
      <div class="who">
        <strong data-caller-number>{card.caller.number}</strong>
        {card.caller.name && <span data-caller-name> {card.caller.name}</span>}
        {card.kind === "callback" && <span class="badge"> call-back</span>}
      </div>
      <dl class="facts">
        <dt>Dialled</dt><dd data-dialled>{card.dialled.number}{card.dialled.label ? ` (${card.dialled.label})` : ""}</dd>
        <dt>Source</dt><dd data-source>{card.source || "–"}{card.campaign ? ` · ${card.campaign}` : ""}</dd>
        <dt>Queue</dt><dd>{card.queue.name} <span class="hint">waited {seconds(card.waited_since, waitedUntil)}</span></dd>
        <dt>Caller</dt><dd>{card.first_time_caller === true ? "first-time caller" : card.first_time_caller === false ? "has called before" : "–"}</dd>
      </dl>
      {card.ivr_path.length > 0 && (
        <div data-ivr-path>
          <h3>IVR path</h3>
          <ol class="ivr-steps">
            {card.ivr_path.map((step) => (
              <li>{step.node}{step.digits && <> · pressed <kbd>{step.digits}</kbd></>}{step.speech && ` · said “${step.speech}”`}
                {step.outcome && <span class="hint"> · {step.outcome}</span>}</li>
            ))}
          </ol>
        </div>
      )}
      <div data-previous-calls>
        <h3>Previous calls</h3>
        {card.previous_calls.length === 0 ? <p class="hint">None from this number.</p> : (
          <table>
            <tbody>
              {card.previous_calls.map((c) => (
                <tr><td>{c.at ? new Date(c.at).toLocaleString() : ""}</td><td>{c.outcome}</td>
                  <td>{c.agent || "–"}</td><td>{c.disposition || ""}{c.notes ? <small class="hint"> {c.notes}</small> : null}</td></tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}

function Incoming({ offer, agent, sandbox, phone, onError }) {
  const accept = async () => {
    if (phone.call && !sandbox) {
      phone.call.answer();
      return;
    }
    onError((await api(offerUrl(offer.id, "accept"), "POST")).error);
  };
  const decline = async () => onError((await api(offerUrl(offer.id, "decline"), "POST")).error);
  const canAccept = sandbox || (agent.endpoint === "webrtc" && phone.call);
  return (
    <div class="actions">
      {canAccept
        ? <button type="button" class="primary" data-accept onClick={accept}>Accept</button>
        : <span class="hint">Answer on your phone.</span>}
      <button type="button" class="danger" data-decline onClick={decline}>Decline</button>
    </div>
  );
}

// What happens to a caller handed to a colleague who is not free: the server's rule, said before the click.
function colleagueHint(colleague, mode) {
  if (!colleague || colleague.status === "available") return "";
  if (mode === "warm") return `${colleague.name} is not available: a warm transfer needs them free.`;
  if (colleague.status === "away" || colleague.status === "offline") {
    return `${colleague.name} is ${colleague.status_label.toLowerCase()}: the caller will wait in the queue for the next agent.`;
  }
  return `${colleague.name} is busy: the caller waits for them up to the queue's ring time, then goes to the next agent.`;
}

function Transfer({ offer, targets, onError }) {
  const [form, setForm] = useState({ mode: "blind", target: "queue", agent: "", queue: "", to: "" });
  const set = (name) => (e) => setForm({ ...form, [name]: e.target.value });
  const colleague = targets.agents.find((a) => String(a.id) === form.agent);
  const live = offer.transfer;
  const start = async (e) => {
    e.preventDefault();
    const body = { mode: form.mode, target: form.target, to: form.to };
    if (form.target === "agent") body.agent = Number(form.agent) || null;
    if (form.target === "queue") body.queue = Number(form.queue) || null;
    onError((await api(offerUrl(offer.id, "transfer"), "POST", body)).error);
  };
  if (live) {
    return (
      <div class="transfer" data-transfer={live.status}>
        <span>{live.mode === "warm" ? "Consulting" : "Transferring to"} <strong>{live.to}</strong>: {live.status}</span>
        {live.status === "consulting" && (
          <button type="button" class="primary" data-transfer-complete
            onClick={async () => onError((await api(offerUrl(offer.id, "transfer/complete"), "POST")).error)}>Complete transfer</button>
        )}
        <button type="button" data-transfer-cancel
          onClick={async () => onError((await api(offerUrl(offer.id, "transfer/cancel"), "POST")).error)}>Cancel</button>
      </div>
    );
  }
  return (
    <form class="filters transfer" onSubmit={start} data-transfer-form>
      <label>Transfer
        <select name="mode" value={form.mode} onChange={set("mode")}>
          <option value="blind">Blind</option><option value="warm">Warm (talk first)</option>
        </select>
      </label>
      <label>To
        <select name="target" value={form.target} onChange={set("target")}>
          <option value="queue">a queue</option><option value="agent">an agent</option><option value="number">a number</option>
        </select>
      </label>
      {form.target === "queue" && (
        <label>Queue <select name="queue" value={form.queue} onChange={set("queue")}>
          <option value="">–</option>{targets.queues.map((q) => <option value={q.id}>{q.name}</option>)}
        </select></label>
      )}
      {form.target === "agent" && (
        <label>Agent <select name="agent" value={form.agent} onChange={set("agent")}>
          <option value="">–</option>
          {targets.agents.map((a) => (
            <option value={a.id} data-colleague-status={a.status}>{a.name} · {a.status_label}</option>
          ))}
        </select></label>
      )}
      {form.target === "agent" && colleagueHint(colleague, form.mode) && (
        <p class="hint" data-colleague-hint>{colleagueHint(colleague, form.mode)}</p>
      )}
      {form.target === "number" && (
        <label>Number <input name="to" value={form.to} placeholder="+1… or sip:…" onInput={set("to")} /></label>
      )}
      <button type="submit">Transfer</button>
    </form>
  );
}

function InCall({ offer, targets, now, onError }) {
  const [digits, setDigits] = useState("");
  const post = async (action, body) => onError((await api(offerUrl(offer.id, action), "POST", body)).error);
  const key = (k) => {
    setDigits((d) => (d + k).slice(-20));
    post("dtmf", { digits: k });
  };
  return (
    <div class="in-call" data-in-call>
      <p>On the call for <strong data-talk-time>{seconds(offer.answered_at, now)}</strong>
        {offer.held && <span class="badge warn"> caller on hold</span>}{offer.muted && <span class="badge warn"> muted</span>}</p>
      <div class="actions">
        <button type="button" data-hold onClick={() => post("hold", { on: !offer.held })}>{offer.held ? "Resume" : "Hold"}</button>
        <button type="button" data-mute onClick={() => post("mute", { on: !offer.muted })}>{offer.muted ? "Unmute" : "Mute"}</button>
        <button type="button" class="danger" data-hangup onClick={() => post("hangup")}>Hang up</button>
      </div>
      <div class="keypad" data-keypad>
        {KEYS.map((k) => <button type="button" data-key={k} onClick={() => key(k)}>{k}</button>)}
        <output>{digits}</output>
      </div>
      <Transfer offer={offer} targets={targets} onError={onError} />
    </div>
  );
}

function WrapUp({ offer, dispositions, inWrapUp, onError }) {
  const [disposition, setDisposition] = useState("");
  const [notes, setNotes] = useState("");
  const submit = async (e) => {
    e.preventDefault();
    onError((await api(offerUrl(offer.id, "wrap-up"), "POST",
      { disposition: disposition ? Number(disposition) : null, notes })).error);
  };
  return (
    <form class="wrap-up" onSubmit={submit} data-wrap-up>
      <h3>Wrap-up</h3>
      <label>Disposition
        <select name="disposition" value={disposition} onChange={(e) => setDisposition(e.target.value)}>
          <option value="">–</option>{dispositions.map((d) => <option value={d.id}>{d.name}</option>)}
        </select>
      </label>
      <label>Notes <textarea name="notes" rows="3" value={notes} onInput={(e) => setNotes(e.target.value)} /></label>
      {/* Once the wrap-up time is over (or the queue has none) the agent is already available:
          the call stays here until it has a disposition, or the next call comes. */}
      <button type="submit" class="primary">{inWrapUp ? "Done: back to available" : "Save"}</button>
    </form>
  );
}

function CallPanel({ offer, agent, sandbox, phone, targets, dispositions, now, onError }) {
  if (!offer) {
    return <section class="card call-panel idle" data-no-call><p class="hint">No call right now. Calls offered to you appear here.</p></section>;
  }
  const wrapping = offer.awaits_wrap_up;
  return (
    <section class={`card call-panel ${offer.status}`} data-offer={offer.id} data-offer-status={offer.status}>
      <h2>{offer.status === "ringing" ? "Incoming call" : offer.status === "connected" ? "On a call" : "Call ended"}
        <small class="hint"> · {offer.queue}</small></h2>
      {offer.card && <Card card={offer.card} answeredAt={offer.answered_at} now={now} />}
      {offer.status === "ringing" && <Incoming offer={offer} agent={agent} sandbox={sandbox} phone={phone} onError={onError} />}
      {offer.status === "connected" && <InCall offer={offer} targets={targets} now={now} onError={onError} />}
      {wrapping && <WrapUp offer={offer} dispositions={dispositions} inWrapUp={agent.status === "wrap_up"} onError={onError} />}
    </section>
  );
}

function Phone({ agent, sandbox, phone }) {
  let text;
  if (sandbox) text = "Sandbox mode: calls ring a simulated phone; Accept answers it.";
  else if (agent.endpoint !== "webrtc") text = `Calls ring your phone (${agent.endpoint === "sip" ? "SIP" : "number"}).`;
  else text = `Browser softphone: ${phone.status}${phone.error ? ` (${phone.error})` : ""}`;
  return <p class="hint softphone" data-softphone={sandbox ? "sandbox" : phone.status}>{text}</p>;
}

// --- the page ------------------------------------------------------------------------
function Workspace() {
  const [agent, setAgent] = useState(initial.agent);
  const [queues, setQueues] = useState(initial.queues);
  const [offer, setOffer] = useState(initial.offer);
  const [targets, setTargets] = useState(initial.targets);
  const [error, setError] = useState("");
  const [now, setNow] = useState(Date.now());
  const phone = useSoftphone(agent, initial.sandbox);

  useEffect(() => onLive((message) => {
    if (message.type === "hello" && message.workspace) {
      setAgent(message.workspace.agent);
      setQueues(message.workspace.queues);
      setOffer(message.workspace.offer);
      setTargets(message.workspace.targets);
    } else if (message.type === "agent.presence") {
      // A colleague's status, for the transfer list.
      setTargets((current) => ({
        ...current,
        agents: current.agents.map((a) => (a.id === message.agent.id && newer(a, message.agent) ? message.agent : a)),
      }));
    } else if (message.type === "agent.updated" && message.agent.id === initial.agent.id) {
      setAgent((current) => (newer(current, message.agent) ? message.agent : current));
    } else if (message.type === "queue.updated") {
      setQueues((list) => list.map((q) => (q.id === message.queue.id && message.queue.version >= q.version ? message.queue : q)));
    } else if (message.type === "offer.updated" && message.agent === initial.agent.id) {
      setOffer((current) => {
        const next = message.offer;
        // Deltas leave the card out (it does not change during a call): keep the one we have.
        if (current && current.id === next.id) return newer(current, next) ? { ...next, card: next.card || current.card } : current;
        // A new call replaces the old one unless it is a refused or cancelled ring.
        return ["ringing", "connected"].includes(next.status) || !current ? next : current;
      });
    }
  }), []);

  // The clock only re-renders elapsed times; nothing is fetched.
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);

  const shown = offer && (["ringing", "connected"].includes(offer.status)
    || offer.awaits_wrap_up || (agent.status === "wrap_up" && offer.answered_at)) ? offer : null;

  return (
    <div class="workspace-grid">
      <div>
        <StatusBar agent={agent} onError={setError} />
        {error && <p class="error" data-error>{error}</p>}
        <CallPanel offer={shown} agent={agent} sandbox={initial.sandbox} phone={phone} targets={targets}
          dispositions={initial.dispositions} now={now} onError={setError} />
      </div>
      <div>
        <Queues queues={queues} now={now} />
        <section class="card"><h2>Phone</h2><Phone agent={agent} sandbox={initial.sandbox} phone={phone} /></section>
      </div>
    </div>
  );
}

root.replaceChildren(); // the "loading" hint
render(<Workspace />, root);
