// The back office's security-key pages: a form with data-webauthn="create"
// (register a key) or "get" (sign in) carries the options for the browser
// in data-options; the button asks the authenticator and posts its answer
// as JSON in the form's field "antwort". No inline script, no fetch.
"use strict";
(function () {
  function fromB64(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function toB64(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function ids(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, { id: fromB64(c.id) }); });
  }
  function answer(cred) {
    var r = cred.response, out = {
      id: cred.id, rawId: toB64(cred.rawId), type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: toB64(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = toB64(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = toB64(r.authenticatorData);
      out.response.signature = toB64(r.signature);
      if (r.userHandle) out.response.userHandle = toB64(r.userHandle);
    }
    return JSON.stringify(out);
  }
  function start(form) {
    var mode = form.getAttribute("data-webauthn");
    var pk = JSON.parse(form.getAttribute("data-options")).publicKey;
    pk.challenge = fromB64(pk.challenge);
    var ask;
    if (mode === "create") {
      pk.user = Object.assign({}, pk.user, { id: fromB64(pk.user.id) });
      pk.excludeCredentials = ids(pk.excludeCredentials);
      ask = navigator.credentials.create({ publicKey: pk });
    } else {
      pk.allowCredentials = ids(pk.allowCredentials);
      ask = navigator.credentials.get({ publicKey: pk });
    }
    var err = form.querySelector("[data-webauthn-error]");
    err.hidden = true;
    ask.then(function (cred) {
      form.elements.namedItem("antwort").value = answer(cred);
      form.submit();
    }).catch(function () {
      err.hidden = false;
      err.focus();
    });
  }
  document.querySelectorAll("form[data-webauthn]").forEach(function (form) {
    var button = form.querySelector("[data-webauthn-start]");
    if (!window.PublicKeyCredential) {
      button.disabled = true;
      form.querySelector("[data-webauthn-error]").hidden = false;
      return;
    }
    button.addEventListener("click", function () { start(form); });
  });
})();
