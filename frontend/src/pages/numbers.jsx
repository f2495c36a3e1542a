// Numbers page (admins): the center's numbers, a search of Telnyx's inventory,
// ordering a number and importing the account's numbers. Orders, imports and
// releases are jobs: their progress arrives on the live websocket
// ("number_job.updated" to this user); while the socket is down the page polls.
import { render } from "preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { onLive } from "../live.js";
import { api } from "../api.js";

const root = document.getElementById("numbers-app");
const urls = root.dataset;
const initial = JSON.parse(document.getElementById("numbers-initial").textContent);
const POLL_MS = 2000;
const COUNTRIES = [["US", "United States"], ["CA", "Canada"], ["GB", "United Kingdom"], ["AU", "Australia"], ["FR", "France"]];

function socketOnline() {
  return !!document.querySelector("[data-live-status].online");
}

const finished = (job) => job.status === "done" || job.status === "failed";

// --- the center's numbers ------------------------------------------------------------
function NumbersTable({ numbers }) {
  const editUrl = (id) => urls.editUrl.replace(/0\/$/, `${id}/`);
  return (
    <section class="card">
      <h2>Your numbers</h2>
      <table class="numbers" data-numbers>
        <thead>
          <tr><th>Number</th><th>Label</th><th>Routes to</th><th>Source</th><th>Campaign</th><th>Calls</th><th>Status</th><th /></tr>
        </thead>
        <tbody>
          {numbers.map((n) => (
            <tr data-number={n.e164} data-status={n.status}>
              <td><a href={editUrl(n.id)}>{n.e164}</a><br /><small class="hint">{[n.locality, n.region, n.country].filter(Boolean).join(", ")}</small></td>
              <td>{n.label}</td>
              <td>{n.route_label}{n.route === "forward" && n.forward_to ? `: ${n.forward_to}` : ""}</td>
              <td>{n.tracking_source || "–"}</td>
              <td>{n.tracking_campaign || "–"}</td>
              <td>{n.call_count ?? ""}</td>
              <td><span class={`badge number-${n.status}`}>{n.status_label}</span>{!n.telnyx_id && <small class="hint"> not at Telnyx</small>}</td>
              <td><a class="button" href={editUrl(n.id)}>Edit</a></td>
            </tr>
          ))}
          {numbers.length === 0 && <tr class="empty"><td colspan="8">No numbers yet: search and buy one, or import the account's numbers.</td></tr>}
        </tbody>
      </table>
    </section>
  );
}

// --- searching and ordering -------------------------------------------------------------
function SearchPanel({ jobs, onJob }) {
  const [form, setForm] = useState({ country_code: "US", national_destination_code: "", locality: "", administrative_area: "", phone_number_type: "", quickship: false, features: [] });
  const [results, setResults] = useState(null);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const [label, setLabel] = useState("");
  const [source, setSource] = useState("");
  const ordering = useMemo(() => {
    const byNumber = {};
    for (const job of jobs) if (job.kind === "order") byNumber[job.phone_number] = byNumber[job.phone_number] || job;
    return byNumber;
  }, [jobs]);

  const set = (name) => (e) => setForm({ ...form, [name]: e.target.type === "checkbox" ? e.target.checked : e.target.value });
  const toggleFeature = (name) => (e) => setForm({
    ...form, features: e.target.checked ? [...form.features, name] : form.features.filter((f) => f !== name),
  });

  const search = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(form)) {
      if (key === "features") value.forEach((f) => params.append("features", f));
      else if (value !== "" && value !== false) params.set(key, value);
    }
    const result = await api(`${urls.searchApi}?${params}`);
    setBusy(false);
    if (result.ok) setResults(result.data);
    else { setResults(null); setError(result.error); }
  };

  const order = async (row) => {
    setError("");
    const body = {
      phone_number: row.phone_number, label, tracking_source: source, country: row.country,
      locality: row.locality, region: row.region, features: row.features,
    };
    if (row.number_type) body.number_type = row.number_type;
    const result = await api(urls.orderApi, "POST", body);
    if (result.ok) onJob(result.data);
    else setError(result.error);
  };

  return (
    <section class="card">
      <h2>Buy a number</h2>
      <form class="filters" onSubmit={search} data-search-form>
        <label>Country
          <select name="country_code" value={form.country_code} onChange={set("country_code")}>
            {COUNTRIES.map(([code, name]) => <option value={code}>{name}</option>)}
          </select>
        </label>
        <label>Area code <input name="national_destination_code" inputmode="numeric" size="5" value={form.national_destination_code} onInput={set("national_destination_code")} /></label>
        <label>City <input name="locality" value={form.locality} onInput={set("locality")} /></label>
        <label>State / province <input name="administrative_area" size="6" value={form.administrative_area} onInput={set("administrative_area")} /></label>
        <label>Type
          <select name="phone_number_type" value={form.phone_number_type} onChange={set("phone_number_type")}>
            <option value="">Any</option>
            {initial.number_types.map(([kind, name]) => <option value={kind}>{name}</option>)}
          </select>
        </label>
        <fieldset class="features">
          <legend>Features</legend>
          {initial.features.map((f) => (
            <label class="inline"><input type="checkbox" name="features" value={f} checked={form.features.includes(f)} onChange={toggleFeature(f)} /> {f.replaceAll("_", " ")}</label>
          ))}
          <label class="inline"><input type="checkbox" name="quickship" checked={form.quickship} onChange={set("quickship")} /> quickship</label>
        </fieldset>
        <button type="submit" class="primary" disabled={busy}>{busy ? "Searching…" : "Search"}</button>
      </form>
      {error && <p class="error" data-search-error>{error}</p>}
      {results && (
        <div data-search-results>
          <div class="filters">
            <label>Label for the new number <input name="order_label" value={label} onInput={(e) => setLabel(e.target.value)} /></label>
            <label>Tracking source <input name="order_source" placeholder="e.g. Google Ads" value={source} onInput={(e) => setSource(e.target.value)} /></label>
          </div>
          <table class="numbers">
            <thead><tr><th>Number</th><th>Location</th><th>Features</th><th>Monthly</th><th /></tr></thead>
            <tbody>
              {results.map((row) => {
                const job = ordering[row.phone_number];
                return (
                  <tr data-available={row.phone_number}>
                    <td>{row.phone_number}{row.best_effort && <small class="hint"> (nearby)</small>}</td>
                    <td>{[row.locality, row.region, row.country].filter(Boolean).join(", ")}</td>
                    <td>{row.features.join(", ")}{row.quickship && <span class="badge">quickship</span>}</td>
                    <td>{row.monthly_cost} {row.currency}</td>
                    <td>
                      {job && job.status === "done" ? <span class="badge number-active" data-bought>Bought</span>
                        : job && !finished(job) ? <button type="button" disabled>Ordering…</button>
                          : <button type="button" class="primary" data-order={row.phone_number} onClick={() => order(row)}>Order</button>}
                    </td>
                  </tr>
                );
              })}
              {results.length === 0 && <tr class="empty"><td colspan="5">No numbers match: widen the search.</td></tr>}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

// --- jobs ---------------------------------------------------------------------------------
const KIND = { order: "Order", import: "Import", release: "Release" };

function JobsPanel({ jobs, onJob }) {
  const [assign, setAssign] = useState(false);
  const [error, setError] = useState("");
  const importing = jobs.some((j) => j.kind === "import" && !finished(j));
  const startImport = async () => {
    setError("");
    const result = await api(urls.importApi, "POST", { assign });
    if (result.ok) onJob(result.data);
    else setError(result.error);
  };
  // A failed job runs again from where it stopped (an order is looked up, never placed twice).
  const retry = async (job) => {
    setError("");
    const result = await api(`${urls.jobsApi}${job.id}/retry/`, "POST");
    if (result.ok) onJob(result.data);
    else setError(result.error);
  };
  return (
    <section class="card">
      <h2>Orders, imports and releases</h2>
      <div class="filters">
        <button type="button" data-import onClick={startImport} disabled={importing}>{importing ? "Importing…" : "Import the account's numbers from Telnyx"}</button>
        <label class="inline"><input type="checkbox" checked={assign} onChange={(e) => setAssign(e.target.checked)} /> point them at this center{initial.connection_id ? ` (${initial.connection_id})` : ""}</label>
      </div>
      {error && <p class="error">{error}</p>}
      <table class="jobs" data-jobs>
        <thead><tr><th>Started</th><th>What</th><th>Progress</th></tr></thead>
        <tbody>
          {jobs.map((job) => (
            <tr data-job-id={job.id} data-kind={job.kind} data-status={job.status}>
              <td>{new Date(job.created_at).toLocaleTimeString()}</td>
              <td>{KIND[job.kind]} {job.phone_number}</td>
              <td>
                <span class={`badge job-${job.status}`}>{job.status}</span> <span data-step>{job.step}</span>
                {job.error && <span class="error"> {job.error}</span>}
                {job.status === "failed" && <> <button type="button" data-retry onClick={() => retry(job)}>Retry</button></>}
                {job.kind === "import" && job.status === "done" && (
                  <small class="hint"> {job.details.created || 0} new, {job.details.updated || 0} updated, {job.details.restored || 0} restored, {job.details.invalid || 0} not valid E.164, {job.details.skipped || 0} not active</small>
                )}
              </td>
            </tr>
          ))}
          {jobs.length === 0 && <tr class="empty"><td colspan="3">Nothing yet.</td></tr>}
        </tbody>
      </table>
    </section>
  );
}

// --- the page -------------------------------------------------------------------------------
function NumbersPage() {
  const [numbers, setNumbers] = useState(initial.numbers);
  const [jobs, setJobs] = useState(initial.jobs);

  const refreshNumbers = async () => {
    const result = await api(urls.listApi);
    if (result.ok) setNumbers(result.data);
  };
  const jobsRef = useRef(initial.jobs);
  const upsert = (job) => {
    const current = jobsRef.current;
    const known = current.find((j) => j.id === job.id);
    if (known && known.version >= job.version) return; // stale or repeated
    const next = [job, ...current.filter((j) => j.id !== job.id)].sort((a, b) => b.id - a.id);
    jobsRef.current = next;
    setJobs(next);
    if (finished(job) && !(known && finished(known))) refreshNumbers();
  };

  useEffect(() => onLive((message) => {
    if (message.type === "number_job.updated") upsert(message.job);
    else if (message.type === "hello") api(urls.jobsApi).then((r) => r.ok && r.data.forEach(upsert));
  }), []);

  // Polling fallback: only while a job runs and the websocket is not connected.
  useEffect(() => {
    const timer = setInterval(async () => {
      if (socketOnline()) return;
      for (const job of jobs.filter((j) => !finished(j))) {
        const result = await api(`${urls.jobsApi}${job.id}/`);
        if (result.ok) upsert(result.data);
      }
    }, POLL_MS);
    return () => clearInterval(timer);
  }, [jobs]);

  return (
    <>
      <NumbersTable numbers={numbers} />
      <SearchPanel jobs={jobs} onJob={upsert} />
      <JobsPanel jobs={jobs} onJob={upsert} />
    </>
  );
}

root.replaceChildren();
render(<NumbersPage />, root);
