// n8n Code node (JavaScript, "Run Once for All Items") after a Webhook node whose Options have "Raw Body" on.
// Checks hi's Standard Webhooks signature over the raw bytes; needs NODE_FUNCTION_ALLOW_BUILTIN=crypto.
// Each item comes out as { verified, reason, event }: route it with an If node on {{ $json.verified }}.
const crypto = require('crypto');

// hi's signing secret for this endpoint. The part after "whsec_" is base64: the HMAC key is its decoded bytes.
const SECRET = 'whsec_PASTE_THE_SECRET_HI_SHOWED';
const TOLERANCE_S = 5 * 60;

const key = Buffer.from(SECRET.replace(/^whsec_/, ''), 'base64');
const results = [];
for (const [index, item] of $input.all().entries()) {
  const headers = item.json.headers || {};
  const id = headers['webhook-id'];
  const stamp = headers['webhook-timestamp'];
  const signatures = String(headers['webhook-signature'] || '').split(' ');
  // The bytes exactly as hi sent them: never JSON.stringify($json.body), which would turn "Jos\u00e9" into "José".
  const body = await this.helpers.getBinaryDataBuffer(index, 'data');
  const expected = crypto.createHmac('sha256', key).update(`${id}.${stamp}.`).update(body).digest();
  const matches = signatures.some((entry) => {
    const [version, signature] = entry.split(',');
    const given = Buffer.from(signature || '', 'base64');
    return version === 'v1' && given.length === expected.length && crypto.timingSafeEqual(given, expected);
  });
  let reason = '';
  if (!id || !stamp) reason = 'not a signed webhook';
  else if (Math.abs(Date.now() / 1000 - Number(stamp)) > TOLERANCE_S) reason = 'stale or future timestamp';
  else if (!matches) reason = 'invalid signature';
  results.push({ json: { verified: !reason, reason, event: reason ? null : JSON.parse(body.toString('utf8')) } });
}
return results;
