// s3rver (an S3-protocol server from npm) as a child process for the tests. Arguments: its storage
// folder and the bucket to create. Prints {"port": N} once listening on 127.0.0.1, and stops when
// its standard input closes. Two shims for Deno's Node compatibility, neither visible to a client:
// - run it with --unsafe-proto: its dependencies assign Object.prototype.__proto__ (without it,
//   DELETE fails);
// - its ListObjectsV2 continuation tokens are DES-encrypted, a cipher Deno's node:crypto lacks;
//   they are opaque to clients, so AES-128 with the key and IV doubled stands in.
import crypto from "node:crypto";
import { Buffer } from "node:buffer";

const original = { cipher: crypto.createCipheriv, decipher: crypto.createDecipheriv };
const doubled = (b: Uint8Array) => Buffer.concat([b, b]);
const shimmed = crypto as unknown as Record<string, unknown>;
shimmed.createCipheriv = (algorithm: string, key: Uint8Array, iv: Uint8Array) =>
  algorithm === "des"
    ? original.cipher("aes-128-cbc", doubled(key), doubled(iv))
    : original.cipher(algorithm, key, iv);
shimmed.createDecipheriv = (algorithm: string, key: Uint8Array, iv: Uint8Array) =>
  algorithm === "des"
    ? original.decipher("aes-128-cbc", doubled(key), doubled(iv))
    : original.decipher(algorithm, key, iv);

// Imported after the shim, which it must see.
const { default: S3rver } = await import("s3rver");

const [directory, bucket] = Deno.args;
const server = new S3rver({
  address: "127.0.0.1",
  port: 0,
  silent: true,
  directory,
  configureBuckets: [{ name: bucket }],
});
const { port } = await server.run();
console.log(JSON.stringify({ port }));
for await (const _ of Deno.stdin.readable) {
  // the parent never writes: this only waits for the end
}
await server.close();
Deno.exit(0);
