// The nerkit API from the browser: JSON in and out, failures as ApiError with the server's code and
// message. When the server wants an API key, the first 401 opens the key dialog (index.html); the
// key is kept in sessionStorage (this tab only) and sent as "Authorization: Bearer KEY".

const KEY_ITEM = "nerkit.apiKey";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function errorOf(response) {
  const body = await response.json().catch(() => undefined);
  return new ApiError(response.status, body?.error?.code ?? "E_HTTP", body?.error?.message ?? `the server answered ${response.status}`);
}

let asking; // one dialog, however many requests were refused at once

/** Asks for a key; resolves with it, or with undefined when the user cancels. */
function askForKey(message) {
  asking ??= new Promise((resolve) => {
    const dialog = document.getElementById("key-dialog");
    const form = dialog.querySelector("form");
    const input = dialog.querySelector("input");
    dialog.querySelector(".dialog-message").textContent = message;
    input.value = "";
    const finish = (key) => {
      form.removeEventListener("submit", onSubmit);
      dialog.removeEventListener("close", onClose);
      dialog.close();
      asking = undefined;
      resolve(key);
    };
    const onSubmit = (event) => {
      event.preventDefault();
      const key = input.value.trim();
      if (key === "") return;
      sessionStorage.setItem(KEY_ITEM, key);
      finish(key);
    };
    const onClose = () => finish(undefined);
    dialog.querySelector("#key-cancel").onclick = () => dialog.close();
    form.addEventListener("submit", onSubmit);
    dialog.addEventListener("close", onClose);
    dialog.showModal();
    input.focus();
  });
  return asking;
}

/** Calls the API: `body` is sent as JSON; the answer is parsed as JSON (or returned as text with as: "text"). */
export async function api(path, { body, method = body === undefined ? "GET" : "POST", as = "json" } = {}) {
  for (;;) {
    const key = sessionStorage.getItem(KEY_ITEM);
    const headers = {};
    if (key) headers.authorization = `Bearer ${key}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response;
    try {
      response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      throw new ApiError(0, "E_NETWORK", "the server cannot be reached");
    }
    if (response.status === 401) {
      const refused = await errorOf(response);
      const fresh = await askForKey(key ? "The server did not accept that key. Enter another one." : "This server needs an API key.");
      if (fresh === undefined) throw refused;
      continue;
    }
    if (!response.ok) throw await errorOf(response);
    return as === "text" ? response.text() : response.json();
  }
}

let labels;

/** The model's entity types (GET /v1/labels), asked once; none when the server cannot say. */
export function modelTypes() {
  labels ??= api("/v1/labels").then(
    (answer) => answer.types,
    () => {
      labels = undefined;
      return [];
    },
  );
  return labels;
}
