// Receive hi's webhooks in Node: check the signature over the raw body with `standardwebhooks`, then use the event.
//
//   npm install standardwebhooks
//   HI_WEBHOOK_SECRET=whsec_... node receiver.js      # listens on 127.0.0.1:8000 (PORT=... to change)
const http = require("node:http");
const { Webhook, WebhookVerificationError } = require("standardwebhooks");

const webhook = new Webhook(process.env.HI_WEBHOOK_SECRET);
const seen = new Set(); // webhook-id of handled events: a retry or a resend repeats it

// Your code goes here; this prints each event as one JSON line.
function handle(event) {
  console.log(JSON.stringify(event));
}

const server = http.createServer((request, response) => {
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    // The bytes as received: hi escapes non-ASCII ("José" is sent as "Jos\u00e9"), so a body
    // parsed and serialised again is no longer what hi signed.
    const body = Buffer.concat(chunks);
    let event;
    try {
      event = webhook.verify(body, request.headers);
    } catch (error) {
      if (!(error instanceof WebhookVerificationError)) throw error;
      response.writeHead(401, { "Content-Type": "text/plain" }); // hi says: "refused the signature"
      response.end("invalid signature");
      return;
    }
    const id = request.headers["webhook-id"];
    if (!seen.has(id)) {
      seen.add(id);
      handle(event);
    }
    response.writeHead(204);
    response.end();
  });
});

server.listen(Number(process.env.PORT || 8000), "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}/`);
});
