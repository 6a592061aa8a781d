// The public REST API, with the signed-in user's token. A 401 refreshes the
// token once and retries; every failure becomes an ApiError carrying the
// API's one error shape ({"error": {"code", "message", "details"}}).

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

export class Api {
  constructor(baseUrl, auth) {
    this.base = baseUrl;
    this.auth = auth;
  }

  get(path) {
    return this.request("GET", path);
  }

  post(path, body) {
    return this.request("POST", path, body);
  }

  del(path) {
    return this.request("DELETE", path);
  }

  async request(method, path, body, retried = false) {
    const headers = { Authorization: `Bearer ${await this.auth.idToken()}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(new URL(path.replace(/^\//, ""), this.base), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
        credentials: "omit",
      });
    } catch {
      throw new ApiError(0, "network", "Cannot reach the API");
    }
    if (response.status === 401 && !retried) {
      await this.auth.refresh();
      return this.request(method, path, body, true);
    }
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      const error = (data && data.error) || {};
      throw new ApiError(response.status, error.code || `http_${response.status}`,
        error.message || response.statusText, error.details);
    }
    return data;
  }
}

/** A page view's API (``ctx.api``; main.js's route run): the same calls, until ``signal`` is aborted -- the
 * person went on to another page. From then on the view's calls answer nothing, ever: a request not yet sent
 * is not sent (no audited read of a page nobody sees), and the answer of one already on its way is dropped,
 * so the code of the page that was left stops where it waits, draws nothing and announces nothing. A request
 * already sent is not cut short: the server may still complete it (a decision submitted just before leaving). */
export function scopedApi(api, signal) {
  const never = () => new Promise(() => {});
  const call = async (method, path, body) => {
    if (signal.aborted) return never();
    let answer;
    try {
      answer = await api.request(method, path, body);
    } catch (error) {
      if (signal.aborted) return never();
      throw error;
    }
    return signal.aborted ? never() : answer;
  };
  return { get: (path) => call("GET", path), post: (path, body) => call("POST", path, body),
    del: (path) => call("DELETE", path) };
}

/** Upload a file straight to S3 with a presigned POST (fields first, the file last). */
export async function uploadPresigned(upload, file) {
  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
  form.append("file", file);
  let response;
  try {
    response = await fetch(upload.url, { method: "POST", body: form, credentials: "omit" });
  } catch {
    throw new ApiError(0, "network", "Cannot reach the document store");
  }
  if (!response.ok) {
    const text = await response.text().catch(() => "");
    const code = (/<Code>([^<]+)<\/Code>/.exec(text) || [])[1] || `http_${response.status}`;
    throw new ApiError(response.status, code, `The document store refused the upload (${code})`);
  }
}
