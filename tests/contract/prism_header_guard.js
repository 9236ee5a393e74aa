// Loaded into Prism with NODE_OPTIONS=--require (tests/contract/prism.py).
// Prism puts a request's validation violations into an `sl-violations` header as raw JSON. A fuzzed value
// outside Latin-1 makes Node's setHeader throw "Invalid character in header content", and the whole mock
// process dies mid-run (seen in one run of the Adyen Management contract test). That is Prism's bug, not
// paycert's: the header's text is escaped to printable ASCII here, and nothing else changes.
"use strict";
const http = require("http");
const setHeader = http.ServerResponse.prototype.setHeader;
http.ServerResponse.prototype.setHeader = function (name, value) {
  if (String(name).toLowerCase() === "sl-violations" && typeof value === "string") {
    value = value.replace(/[^\x20-\x7e]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
  }
  return setHeader.call(this, name, value);
};
