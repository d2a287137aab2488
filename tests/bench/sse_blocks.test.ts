import assert from "node:assert/strict";
import { takeEventBlocks } from "../../bench/sse_blocks.ts";

Deno.test("SSE blocks: whole events only; a chunk without a blank line waits whole", () => {
  // The bug this replaced: a chunk with no blank line lost its first character.
  assert.deepEqual(takeEventBlocks("", "id: 188\nevent: st"), {
    blocks: "",
    rest: "id: 188\nevent: st",
  });
  assert.deepEqual(takeEventBlocks("id: 188\nevent: st", "ep\ndata: {}\n\nid: 1"), {
    blocks: "id: 188\nevent: step\ndata: {}\n\n",
    rest: "id: 1",
  });
  // Every split point of a stream gives back the same events.
  const stream = 'id: 0\nevent: meta\ndata: {}\n\nid: 1\nevent: step\ndata: {"t":1}\n\n';
  for (let cut = 0; cut <= stream.length; cut++) {
    const first = takeEventBlocks("", stream.slice(0, cut));
    const second = takeEventBlocks(first.rest, stream.slice(cut));
    assert.equal(first.blocks + second.blocks, stream, `cut at ${cut}`);
    assert.equal(second.rest, "");
  }
});
