// extension/src/common/pieces.js without a browser (Node's streams are the WHATWG ones): the
// pieces of a Blob in order, and a read of its stream that never resolves (Chromium, now and
// then, for a page's File in the extension frame) given up after `stalledMs` and the piece
// read again from a new stream. The stall is made at a known point: the stream's first pull
// past a given offset never answers.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { pieces } from '../../extension/src/common/pieces.js';

/**
 * A Blob-like file of `data` whose byte streams answer each pull with at most `chunk` bytes;
 * `stallAt`: the first stream's pull that would cross that offset never answers.
 * Records each stream's start (`starts`).
 */
function fakeFile(data, { chunk = 64 << 10, stallAt = Infinity } = {}) {
  const starts = [];
  let stalled = false;
  const slice = (from) => ({
    size: data.length - from,
    slice: (at) => slice(from + at),
    stream() {
      starts.push(from);
      let at = from;
      return new ReadableStream({
        type: 'bytes',
        pull(controller) {
          if (!stalled && at + chunk > stallAt) {
            stalled = true;
            return new Promise(() => {}); // never answers: the reader's read waits for ever
          }
          const view = controller.byobRequest.view;
          const n = Math.min(view.byteLength, chunk, data.length - at);
          if (n === 0) {
            controller.close();
            controller.byobRequest.respond(0);
            return undefined;
          }
          view.set(data.subarray(at, at + n));
          at += n;
          controller.byobRequest.respond(n);
          return undefined;
        },
      });
    },
  });
  return { file: slice(0), starts };
}

const sha = (b) => createHash('sha256').update(b).digest('hex');

async function readAll(file, bytes, options) {
  const hash = createHash('sha256');
  const sizes = [];
  for await (const piece of pieces(file, bytes, options)) {
    hash.update(piece);
    sizes.push(piece.length);
  }
  return { digest: hash.digest('hex'), sizes };
}

describe('pieces (common/pieces.js)', () => {
  const data = new Uint8Array(5 * (1 << 20) + 12345).map((_, i) => (i * 7919) & 0xff);

  test('full pieces in order, the last one shorter', async () => {
    const { file, starts } = fakeFile(data);
    const { digest, sizes } = await readAll(file, 1 << 20);
    assert.equal(digest, sha(data));
    assert.deepEqual(sizes, [...Array(5).fill(1 << 20), 12345]);
    assert.deepEqual(starts, [0]);
  });

  // Its own timeout: without the watchdog the read waits for ever (run.sh's 15 min otherwise).
  test('a read that never resolves: the piece again from a new stream, nothing lost or doubled', { timeout: 10_000 }, async () => {
    // 832 KiB into the third piece, as seen in Chromium.
    const { file, starts } = fakeFile(data, { stallAt: 2 * (1 << 20) + (832 << 10) });
    const { digest, sizes } = await readAll(file, 1 << 20, { stalledMs: 50 });
    assert.equal(digest, sha(data));
    assert.deepEqual(sizes, [...Array(5).fill(1 << 20), 12345]);
    assert.deepEqual(starts, [0, 2 << 20], 'a second stream, from the stalled piece\'s start');
  });
});
