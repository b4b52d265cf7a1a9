// The JSON API (docs/api.md) as the app calls it: same origin only, JSON in
// and out, every failure one of three errors the screens turn into German
// sentences. Nothing here is cached: the service worker leaves /api/ alone and
// every call says cache: "no-store".

/** An error answer of the server: {"error": code, "message": German text}. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {any} body
   * @param {number} retryAfter seconds, 0 when not given
   */
  constructor(status, body, retryAfter) {
    super(String(body.message || body.error));
    this.name = "ApiError";
    this.status = status;
    /** @type {string} */
    this.code = String(body.error);
    /** German text for the person, from the server. */
    this.text = typeof body.message === "string" ? body.message : "";
    /** @type {number|undefined} */
    this.remaining = Number.isInteger(body.remaining_attempts) ? body.remaining_attempts : undefined;
    /** @type {string} */
    this.field = typeof body.field === "string" ? body.field : "";
    /** @type {{code: string, message: string}[]} */
    this.reasons = Array.isArray(body.reasons) ? body.reasons.filter((r) => r && typeof r.message === "string") : [];
    this.retryAfter = retryAfter;
    /** @type {string} */
    this.lockedUntil = typeof body.locked_until === "string" ? body.locked_until : "";
  }
}

/** The request did not reach the server, or its answer did not reach the app. */
export class NetworkError extends Error {
  constructor() {
    super("network");
    this.name = "NetworkError";
  }
}

/** The server answered something the app does not understand. */
export class UnexpectedError extends Error {
  /** @param {string} what */
  constructor(what) {
    super("unexpected answer: " + what);
    this.name = "UnexpectedError";
  }
}

/** @param {number} ms */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Calls the API. A 429 with a short Retry-After is waited out and sent again
 * (the limits are per client address; nothing was done).
 * @param {string} method
 * @param {string} path below the origin, e.g. "/api/v1/sessions"
 * @param {{body?: any, token?: string, expect?: number[], signal?: AbortSignal}} [opts]
 * @returns {Promise<any>} the decoded JSON answer, or null for 204
 */
export async function call(method, path, opts = {}) {
  const expect = opts.expect || [200];
  /** @type {Record<string, string>} */
  const headers = { Accept: "application/json" };
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  if (opts.token) headers.Authorization = "Bearer " + opts.token;
  for (let attempt = 0; ; attempt++) {
    let resp;
    try {
      resp = await fetch(path, {
        method, headers, cache: "no-store", credentials: "same-origin", redirect: "error", signal: opts.signal,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      });
    } catch (e) {
      if (opts.signal && opts.signal.aborted) throw e;
      throw new NetworkError();
    }
    const retryAfter = Number(resp.headers.get("Retry-After")) || 0;
    if (resp.status === 429 && attempt < 3 && retryAfter > 0 && retryAfter <= 5) {
      await sleep(retryAfter * 1000);
      continue;
    }
    let data = null;
    let text = "";
    try {
      text = await resp.text();
    } catch {
      throw new NetworkError();
    }
    if (text !== "") {
      try {
        data = JSON.parse(text);
      } catch {
        throw new UnexpectedError(method + " " + path + ": " + resp.status + " without JSON");
      }
    }
    if (expect.includes(resp.status)) {
      if (resp.status === 204) return null;
      if (data === null || typeof data !== "object") throw new UnexpectedError(method + " " + path + ": no JSON object");
      return data;
    }
    if (data && typeof data === "object" && typeof data.error === "string") throw new ApiError(resp.status, data, retryAfter);
    throw new UnexpectedError(method + " " + path + ": status " + resp.status);
  }
}

/**
 * Reads a string member or fails with UnexpectedError.
 * @param {any} obj
 * @param {string} key
 */
export function str(obj, key) {
  const v = obj && obj[key];
  if (typeof v !== "string" || v === "") throw new UnexpectedError("member " + key);
  return v;
}
