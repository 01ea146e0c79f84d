// Mints session tokens with the frontend's own libraries, for the backend's tests.
// stdin: a JSON array of {lib: "next-auth" | "authjs", secret, salt?, maxAge?, token}
// stdout: a JSON array of the encoded tokens, in the same order.
import { createRequire } from "node:module";
import { encode as encodeV5 } from "@auth/core/jwt";

const require = createRequire(import.meta.url);
const { encode: encodeV4 } = require("next-auth/jwt");

let input = "";
for await (const chunk of process.stdin) input += chunk;

const out = [];
for (const req of JSON.parse(input)) {
  const params = { token: req.token, secret: req.secret, maxAge: req.maxAge };
  if (req.lib === "next-auth") {
    out.push(await encodeV4(params));
  } else if (req.lib === "authjs") {
    out.push(await encodeV5({ ...params, salt: req.salt }));
  } else {
    throw new Error(`unknown lib ${req.lib}`);
  }
}
process.stdout.write(JSON.stringify(out));
