/* Deposit portal: the few things htmx does not do. No framework, no external code.
 *
 * - Resumable uploads: announce a file, then PUT it in chunks with Content-Range,
 *   showing progress; after a failure or a reload, choosing the file again resumes.
 * - Copy buttons (DOIs, citations).
 * - Fields shown only for some choices (data-show-when="resource_type=publication").
 * - What a person types survives a redraw of the part of the page they type in.
 */
(function () {
  "use strict";

  var CHUNK_SIZE = 8 * 1024 * 1024;
  var MAX_RETRIES = 6;

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  // The same units as deposits/sizes.py (decimal), so a size reads alike everywhere.
  function formatBytes(n) {
    var units = ["bytes", "KB", "MB", "GB", "TB"];
    var i = 0;
    while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
    return (i === 0 ? n : n.toFixed(1)) + " " + units[i];
  }

  function announce(name) {
    if (window.htmx) { window.htmx.trigger(document.body, name); }
  }

  // ------------------------------------------------------------------ uploads

  function UploadRow(container, file) {
    this.el = document.createElement("div");
    this.el.className = "upload-item";
    this.el.setAttribute("data-upload", file.name);
    var name = document.createElement("span");
    name.className = "file-name";
    name.textContent = file.name;
    this.bar = document.createElement("progress");
    this.bar.max = file.size || 1;
    this.bar.value = 0;
    this.bar.setAttribute("aria-label", "Upload of " + file.name);
    this.text = document.createElement("span");
    this.text.className = "upload-text";
    this.el.appendChild(name);
    this.el.appendChild(this.bar);
    this.el.appendChild(this.text);
    container.appendChild(this.el);
  }
  UploadRow.prototype.progress = function (sent, total) {
    this.bar.value = sent;
    var pct = total ? Math.floor((sent * 100) / total) : 100;
    this.text.textContent = pct + "% · " + formatBytes(sent) + " of " + formatBytes(total);
  };
  UploadRow.prototype.fail = function (message) {
    this.el.classList.add("failed");
    this.text.setAttribute("role", "alert");
    this.text.textContent = message;
  };
  UploadRow.prototype.done = function () {
    this.el.classList.add("done");
    this.text.textContent = "Uploaded";
    var el = this.el;
    setTimeout(function () { el.remove(); }, 4000);
  };

  function request(method, url, body, headers, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.setRequestHeader("X-CSRFToken", csrfToken());
      xhr.setRequestHeader("Accept", "application/json");
      Object.keys(headers || {}).forEach(function (k) { xhr.setRequestHeader(k, headers[k]); });
      if (onProgress) {
        xhr.upload.onprogress = function (e) { onProgress(e.loaded); };
      }
      xhr.onload = function () {
        var data = {};
        try { data = JSON.parse(xhr.responseText || "{}"); } catch (e) { data = {}; }
        resolve({ status: xhr.status, data: data });
      };
      xhr.onerror = function () { reject(new Error("network")); };
      xhr.send(body);
    });
  }

  function wait(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  async function uploadFile(form, file, row) {
    var start = new FormData();
    start.append("name", file.name);
    start.append("size", String(file.size));
    var replace = form.querySelector("input[name=replace]");
    if (replace && replace.checked) { start.append("replace", "1"); }
    var answer = await request("POST", form.getAttribute("data-start-url"), start);
    if (answer.status >= 400) { throw new Error(answer.data.error || "The upload was refused."); }
    var url = answer.data.url;
    var offset = answer.data.received || 0;
    var retries = 0;
    row.progress(offset, file.size);
    while (offset < file.size) {
      var end = Math.min(offset + CHUNK_SIZE, file.size);
      var base = offset;
      var reply;
      try {
        reply = await request("PUT", url, file.slice(offset, end), {
          "Content-Type": "application/octet-stream",
          "Content-Range": "bytes " + offset + "-" + (end - 1) + "/" + file.size
        }, function (loaded) { row.progress(base + loaded, file.size); });
      } catch (e) {
        reply = { status: 0, data: {} };
      }
      if (reply.status === 200) {
        offset = reply.data.received;
        retries = 0;
      } else if (typeof reply.data.received === "number" && reply.status === 409) {
        offset = reply.data.received;  // the server knows better where we are: resume there
      } else if (reply.status === 0 || reply.status >= 500 || reply.status === 400) {
        if (++retries > MAX_RETRIES) {
          throw new Error("The connection keeps failing: choose the file again later to resume.");
        }
        await wait(Math.min(30000, 1000 * Math.pow(2, retries)));
        var status = await request("GET", url).catch(function () { return { status: 0, data: {} }; });
        if (status.status === 200) { offset = status.data.received; }
      } else {
        throw new Error(reply.data.error || "The upload was refused.");
      }
      row.progress(offset, file.size);
    }
  }

  async function uploadAll(form, files) {
    var container = form.querySelector(".uploads");
    for (var i = 0; i < files.length; i++) {
      var row = new UploadRow(container, files[i]);
      try {
        await uploadFile(form, files[i], row);
        row.done();
      } catch (e) {
        row.fail(files[i].name + ": " + e.message);
      }
      announce("files-changed");
      announce("deposit-changed");
    }
  }

  function setUpUploads(root) {
    root.querySelectorAll("form#upload-form:not([data-js])").forEach(function (form) {
      form.setAttribute("data-js", "1");
      form.classList.add("js-upload");
      var input = form.querySelector("input[type=file]");
      input.addEventListener("change", function () {
        var files = Array.prototype.slice.call(input.files);
        input.value = "";
        if (files.length) { uploadAll(form, files); }
      });
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        var files = Array.prototype.slice.call(input.files);
        input.value = "";
        if (files.length) { uploadAll(form, files); }
      });
    });
  }

  // ------------------------------------------------------------------ copy

  function copyText(text, button) {
    var done = function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text); done(); });
    } else {
      fallbackCopy(text);
      done();
    }
  }

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "absolute";
    area.style.left = "-9999px";
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing more to try */ }
    area.remove();
  }

  document.addEventListener("click", function (e) {
    var button = e.target.closest("[data-copy], [data-copy-from]");
    if (!button) { return; }
    var text = button.getAttribute("data-copy");
    if (text === null) {
      var source = document.querySelector(button.getAttribute("data-copy-from"));
      text = source ? source.textContent.trim() : "";
    }
    copyText(text, button);
  });

  // ------------------------------------------------------------------ conditional fields

  function currentValue(form, name) {
    var checked = form.querySelector("[name='" + name + "']:checked");
    if (checked) { return checked.value; }
    var el = form.querySelector("[name='" + name + "']");
    return el && el.type !== "radio" && el.type !== "checkbox" ? el.value : "";
  }

  function applyShowWhen(root) {
    (root || document).querySelectorAll("[data-show-when]").forEach(function (el) {
      var form = el.closest("form");
      if (!form) { return; }
      var rule = el.getAttribute("data-show-when").split("=");
      el.hidden = currentValue(form, rule[0]) !== rule[1];
    });
  }

  document.addEventListener("change", function () { applyShowWhen(document); });

  // ------------------------------------------------------------------ typing survives a redraw

  // A panel drawn again (a save's answer, or a poll while something loads) replaces the
  // field a person is typing in. What they typed since the request left (for a poll,
  // anything not saved yet: a GET sends nothing) is put back, with the cursor.
  var TYPED = /^(text|search|url|email|number|tel|date|datetime-local)$/;
  var sent = null;
  var kept = null;

  function typingIn() {
    var el = document.activeElement;
    if (!el || !el.id) { return null; }
    var typed = el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && TYPED.test(el.type));
    return typed ? el : null;
  }

  document.addEventListener("htmx:beforeRequest", function () {
    var el = typingIn();
    sent = el ? { id: el.id, value: el.value } : null;
  });

  document.addEventListener("htmx:beforeSwap", function (e) {
    var el = typingIn();
    kept = null;
    if (!el || !e.detail.target || !e.detail.target.contains(el)) { return; }
    var verb = ((e.detail.requestConfig || {}).verb || "get").toLowerCase();
    var since = sent && sent.id === el.id ? sent.value : el.defaultValue;
    if (el.value !== (verb === "get" ? el.defaultValue : since)) {
      kept = { id: el.id, value: el.value, start: el.selectionStart, end: el.selectionEnd };
    }
  });

  // A value put back by script is no edit to the browser: leaving the field would fire
  // no "change", and what was typed would never be saved. So leaving it fires one,
  // unless the person typed on and the browser fires its own.
  function saveOnLeave(el) {
    var changed = false;
    el.addEventListener("change", function () { changed = true; }, { once: true });
    el.addEventListener("blur", function () {
      if (!changed && el.value !== el.defaultValue) {
        el.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }, { once: true });
  }

  document.addEventListener("htmx:afterSettle", function () {
    var k = kept;
    kept = null;
    var el = k && document.getElementById(k.id);
    if (!el) { return; }
    el.value = k.value;
    el.focus();
    try {
      if (k.start !== null) { el.setSelectionRange(k.start, k.end); }
    } catch (err) { /* number and date inputs have no selection */ }
    saveOnLeave(el);
  });

  function init(root) {
    setUpUploads(root);
    applyShowWhen(document);
  }

  document.addEventListener("DOMContentLoaded", function () {
    init(document);
    if (window.htmx) { window.htmx.onLoad(function (el) { init(el.closest ? document : el); }); }
  });
})();
