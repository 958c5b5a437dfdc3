// Passkeys (WebAuthn): adding one on the security page, and using one at login or to confirm a
// session before the administration. The server hands out the options (with a challenge kept in
// the session) and checks the answer; this file only carries bytes between the browser's
// WebAuthn API and the server, as base64url JSON, with the CSRF token in a header. No inline
// script: the CSP allows this site's files only. Without JavaScript, or in a browser without
// WebAuthn, the page says so and the authenticator app keeps working.
(function () {
  "use strict";
  var register = document.querySelector("[data-passkey-register]");
  var login = document.querySelector("[data-passkey-login]");
  if (!register && !login) { return; }
  var supported = !!(window.PublicKeyCredential && navigator.credentials);
  document.querySelectorAll("[data-passkey-nojs]").forEach(function (element) {
    element.hidden = true;
  });
  if (!supported) {
    document.querySelectorAll("[data-passkey-unsupported]").forEach(function (element) {
      element.hidden = false;
    });
    return;
  }

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) { base64 += "="; }
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i += 1) { bytes[i] = binary.charCodeAt(i); }
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i += 1) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withBytes(descriptors) {
    return (descriptors || []).map(function (descriptor) {
      return {type: descriptor.type, id: toBytes(descriptor.id), transports: descriptor.transports};
    });
  }

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // An ordinary form post (the browser's answer as JSON in its "credential" field), answered
  // in JSON. "manual": a redirect (to the login page, once the session has ended) is a failure.
  function post(url, fields) {
    var body = new URLSearchParams();
    Object.keys(fields || {}).forEach(function (key) {
      body.append(key, typeof fields[key] === "string" ? fields[key] : JSON.stringify(fields[key]));
    });
    return fetch(url, {
      method: "POST",
      headers: {"X-CSRFToken": csrfToken()},
      credentials: "same-origin",
      redirect: "manual",
      body: body
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { throw new Error(data.error || ""); }
        return data;
      }, function () { throw new Error(""); });
    });
  }

  function say(container, text) {
    var status = container.querySelector("[data-passkey-status]");
    status.textContent = text;
    status.hidden = !text;
  }

  // The server's message when it gave one, else the page's own for a cancelled or failed try.
  function failed(container) {
    return function (error) {
      var fromServer = error && error.name === "Error" ? error.message : "";
      say(container, fromServer || container.getAttribute("data-failed-message"));
    };
  }

  if (register) {
    register.hidden = false;
    register.addEventListener("submit", function (event) {
      event.preventDefault();
      say(register, "");
      var name = register.querySelector("input[name=name]").value;
      var code = register.querySelector("input[name=otp_token]");
      var fields = {name: name};
      if (code) { fields.otp_token = code.value; }
      var enrolment = register.querySelector("input[name=enrolment_code]");
      if (enrolment) { fields.enrolment_code = enrolment.value; }
      post(register.getAttribute("data-options-url"), fields).then(function (options) {
        options.challenge = toBytes(options.challenge);
        options.user.id = toBytes(options.user.id);
        options.excludeCredentials = withBytes(options.excludeCredentials);
        return navigator.credentials.create({publicKey: options});
      }).then(function (credential) {
        var answer = credential.response;
        return post(register.action, {
          name: name,
          credential: {
            id: credential.id,
            rawId: toText(credential.rawId),
            type: credential.type,
            response: {
              clientDataJSON: toText(answer.clientDataJSON),
              attestationObject: toText(answer.attestationObject),
              transports: answer.getTransports ? answer.getTransports() : []
            },
            clientExtensionResults: credential.getClientExtensionResults(),
            authenticatorAttachment: credential.authenticatorAttachment
          }
        });
      }).then(function (data) { window.location.assign(data.redirect); }, failed(register));
    });
  }

  if (login) {
    login.hidden = false;
    login.querySelector("button").addEventListener("click", function () {
      say(login, "");
      post(login.getAttribute("data-options-url")).then(function (options) {
        options.challenge = toBytes(options.challenge);
        options.allowCredentials = withBytes(options.allowCredentials);
        return navigator.credentials.get({publicKey: options});
      }).then(function (credential) {
        var answer = credential.response;
        return post(login.getAttribute("data-login-url"), {credential: {
          id: credential.id,
          rawId: toText(credential.rawId),
          type: credential.type,
          response: {
            clientDataJSON: toText(answer.clientDataJSON),
            authenticatorData: toText(answer.authenticatorData),
            signature: toText(answer.signature),
            userHandle: answer.userHandle ? toText(answer.userHandle) : null
          },
          clientExtensionResults: credential.getClientExtensionResults(),
          authenticatorAttachment: credential.authenticatorAttachment
        }});
      }).then(function (data) { window.location.assign(data.redirect); }, failed(login));
    });
  }
}());
