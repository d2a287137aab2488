// A request with its body replaced by a wrapped stream (the body limit counts it, the body timeout
// guards it). Built from the URL, method and headers, not by copying the request: the copy reads a
// served request's `signal`, and Deno then prints a plain-text warning about its legacy abort
// behaviour into the service's JSON log. Nothing here uses the signal.
export function withBody(request: Request, body: ReadableStream<Uint8Array>): Request {
  return new Request(request.url, {
    method: request.method,
    headers: request.headers,
    body,
    duplex: "half",
  } as RequestInit);
}
