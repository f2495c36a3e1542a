// JSON requests to the center's REST API from a page, with Django's CSRF token.
//
// Every call resolves (never throws on an HTTP error): {ok, status, data, error},
// where error is a sentence to show people when the server refused.

export function csrfToken() {
  return document.querySelector("[name=csrfmiddlewaretoken]")?.value || "";
}

export async function api(url, method = "GET", body) {
  const response = await fetch(url, {
    method,
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  return { ok: response.ok, status: response.status, data, error: response.ok ? "" : messageOf(data, response.status) };
}

// The API's refusals: {message} (application errors), {detail} (DRF), or {field: [errors]} (validation).
export function messageOf(data, status) {
  if (data && data.message) return String(data.message);
  if (data && data.detail) return String(data.detail);
  if (data && typeof data === "object") {
    return Object.entries(data).map(([field, errors]) => `${field}: ${[errors].flat().join(" ")}`).join(" ");
  }
  return `HTTP ${status}`;
}
