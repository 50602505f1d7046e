// A call to the service's JSON API: its status, and its JSON body ({} when
// it has none). Every module that talks to the service goes through here.

export async function call(method, url, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  const data = await response.json().catch(() => ({}));
  return { status: response.status, ok: response.ok, data };
}
