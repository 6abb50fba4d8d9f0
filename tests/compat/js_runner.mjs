// Runs Rekognition calls with @aws-sdk/client-rekognition (the AWS SDK for
// JavaScript v3) and prints their parsed results as JSON.
//
// stdin: {"endpoint", "region", "accessKeyId", "secretAccessKey", "maxAttempts",
//         "parallel": bool, "calls": [{"operation": "DetectFaces", "params": {...}}]}
// Blob parameters arrive as {"__bytes_b64__": "..."} and are passed as Uint8Array.
// stdout: [{"ok": true, "output": {...}, "attempts": n} |
//          {"ok": false, "code": "...Exception", "message": "...", "status": 400, "attempts": n}]
import * as rekognition from "@aws-sdk/client-rekognition";

function decodeBlobs(v) {
  if (Array.isArray(v)) return v.map(decodeBlobs);
  if (v && typeof v === "object") {
    if (typeof v.__bytes_b64__ === "string") return new Uint8Array(Buffer.from(v.__bytes_b64__, "base64"));
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decodeBlobs(x)]));
  }
  return v;
}

function encodeBlobs(v) {
  if (v instanceof Uint8Array) return { __bytes_b64__: Buffer.from(v).toString("base64") };
  if (v instanceof Date) return v.getTime() / 1000;
  if (Array.isArray(v)) return v.map(encodeBlobs);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, encodeBlobs(x)]));
  }
  return v;
}

let input = "";
for await (const chunk of process.stdin) input += chunk;
const req = JSON.parse(input);
const client = new rekognition.RekognitionClient({
  endpoint: req.endpoint,
  region: req.region,
  credentials: { accessKeyId: req.accessKeyId, secretAccessKey: req.secretAccessKey },
  maxAttempts: req.maxAttempts ?? 3,
  retryMode: "standard",
});

async function call({ operation, params }) {
  const Command = rekognition[`${operation}Command`];
  if (!Command) return { ok: false, code: "ClientMissingOperation", message: operation };
  try {
    const out = await client.send(new Command(decodeBlobs(params)));
    const { $metadata, ...rest } = out;
    return { ok: true, output: encodeBlobs(rest), attempts: $metadata.attempts };
  } catch (e) {
    return {
      ok: false,
      code: e.name,
      message: e.message,
      status: e.$metadata?.httpStatusCode,
      attempts: e.$metadata?.attempts,
    };
  }
}

const results = req.parallel
  ? await Promise.all(req.calls.map(call))
  : await (async () => {
      const out = [];
      for (const c of req.calls) out.push(await call(c));
      return out;
    })();
process.stdout.write(JSON.stringify(results));
