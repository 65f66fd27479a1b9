// A stand-in for the n8n workflow of docs/services/webhook.md, to run its Code node as n8n does:
// Webhook node (POST, Header Auth, Raw Body, respond with a Respond to Webhook node) -> Code node
// (the recipe file, run as an async function with `this.helpers`, `$input` and a `require` that allows
// only crypto, like NODE_FUNCTION_ALLOW_BUILTIN=crypto) -> If {{ $json.verified }} -> Respond to Webhook
// (200, or 401 with the reason). Verified events are printed as JSON lines.
//
//   node n8n_shim.js <code node file>   env: HI_WEBHOOK_SECRET, HEADER_NAME, HEADER_VALUE, PORT
const fs = require("node:fs");
const http = require("node:http");

const PLACEHOLDER = "whsec_PASTE_THE_SECRET_HI_SHOWED";
const source = fs.readFileSync(process.argv[2], "utf8");
if (!source.includes(PLACEHOLDER)) throw new Error("the Code node has no secret placeholder to fill in");
// What the operator does: paste hi's secret in place of the placeholder.
const code = source.replace(PLACEHOLDER, process.env.HI_WEBHOOK_SECRET);
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
const codeNode = new AsyncFunction("$input", "require", code);
const allowBuiltin = (name) => {
  if (name !== "crypto") throw new Error(`Cannot find module '${name}' [not in NODE_FUNCTION_ALLOW_BUILTIN]`);
  return require(name);
};

const server = http.createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", async () => {
    // Header Auth: n8n answers 403 when the header is missing or wrong, before the workflow runs.
    if (request.headers[process.env.HEADER_NAME.toLowerCase()] !== process.env.HEADER_VALUE) {
      response.writeHead(403, { "WWW-Authenticate": 'Basic realm="Webhook"' });
      response.end("Authorization data is wrong!");
      return;
    }
    const raw = Buffer.concat(chunks);
    let parsed = {};
    try { parsed = JSON.parse(raw.toString("utf8")); } catch (error) {}
    // The Webhook node's item with "Raw Body" on: headers, the parsed body, and the raw bytes as binary "data".
    const items = [{ json: { headers: request.headers, params: {}, query: {}, body: parsed },
                     binary: { data: { data: raw.toString("base64"), mimeType: "application/json" } } }];
    const context = { helpers: { getBinaryDataBuffer: async (index, name) => Buffer.from(items[index].binary[name].data, "base64") } };
    let out;
    try {
      out = await codeNode.call(context, { all: () => items, first: () => items[0] }, allowBuiltin);
    } catch (error) {
      response.writeHead(500, { "Content-Type": "application/json" });
      response.end(JSON.stringify({ message: "Error in workflow", error: String(error) }));
      return;
    }
    const result = out[0].json;
    if (!result.verified) {
      response.writeHead(401, { "Content-Type": "text/plain" });
      response.end(result.reason);
      return;
    }
    console.log(JSON.stringify(result.event));
    response.writeHead(200, { "Content-Type": "application/json" });
    response.end('{"ok":true}');
  });
});

server.listen(Number(process.env.PORT || 0), "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}/`);
});
