// The live list of approvals: the server-sent event stream
// GET /api/v1/app/approvals/events read with fetch() and a streaming body
// reader (EventSource cannot send the Authorization header), reconnecting
// after the server's retry time with a growing pause, and a poll of
// GET /api/v1/app/approvals at each (re)connect so nothing is missed.

import { call, sleep } from "./api.js";

/**
 * @typedef {{type: string, data: string, id: string}} ServerEvent
 */

/**
 * Splits a text/event-stream into events (WHATWG HTML 9.2.6).
 * @param {ReadableStream<Uint8Array>} body
 * @param {(ev: ServerEvent) => void} onEvent
 * @param {(ms: number) => void} onRetry
 */
export async function readEvents(body, onEvent, onRetry) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  let type = "";
  let data = [];
  let id = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let nl;
    while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + (buf.startsWith("\r\n", nl) ? 2 : 1));
      if (line === "") {
        if (data.length) onEvent({ type: type || "message", data: data.join("\n"), id });
        type = "";
        data = [];
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const name = colon < 0 ? line : line.slice(0, colon);
      let val = colon < 0 ? "" : line.slice(colon + 1);
      if (val.startsWith(" ")) val = val.slice(1);
      if (name === "event") type = val;
      else if (name === "data") data.push(val);
      else if (name === "id") id = val;
      else if (name === "retry" && /^[0-9]+$/.test(val)) onRetry(Number(val));
    }
  }
}

/**
 * Watches the person's approvals until stop() is called.
 * @param {string} token the app session
 * @param {{list: (items: any[]) => void, event: (type: string, item: any) => void,
 *   state: (s: "live"|"reconnecting"|"unauthenticated") => void}} on
 * @returns {() => void} stop
 */
export function watchApprovals(token, on) {
  const ctl = new AbortController();
  let retry = 3000;
  (async () => {
    let failures = 0;
    while (!ctl.signal.aborted) {
      try {
        on.list(await call("GET", "/api/v1/app/approvals", { token, signal: ctl.signal }));
        const resp = await fetch("/api/v1/app/approvals/events", {
          headers: { Authorization: "Bearer " + token, Accept: "text/event-stream" }, cache: "no-store", signal: ctl.signal,
        });
        if (resp.status === 401) {
          on.state("unauthenticated");
          return;
        }
        if (!resp.ok || !resp.body) throw new Error("events: status " + resp.status);
        failures = 0;
        on.state("live");
        await readEvents(resp.body, (ev) => {
          let item;
          try {
            item = JSON.parse(ev.data);
          } catch {
            return;
          }
          on.event(ev.type, item);
        }, (ms) => {
          retry = Math.min(Math.max(ms, 1000), 60000);
        });
      } catch (e) {
        if (ctl.signal.aborted) return;
        if (e && /** @type {any} */ (e).code === "unauthenticated") {
          on.state("unauthenticated");
          return;
        }
        failures++;
      }
      if (ctl.signal.aborted) return;
      on.state("reconnecting");
      await sleep(Math.min(retry * 2 ** Math.min(failures, 4), 60000));
    }
  })();
  return () => ctl.abort();
}
