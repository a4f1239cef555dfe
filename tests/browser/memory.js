// Resident memory of a browser's processes, by kind, for the memory bounds of issue 18
// (memory.test.js) and the benchmarks (bench-hash-page.mjs). Read from `ps`: the browser is
// a descendant of this Node process (the drivers spawn it).
import { execFileSync } from 'node:child_process';

/**
 * Resident memory (KiB) of `root`'s descendants, by kind: `page` (Chromium: renderers other
 * than the extension's; Firefox: every content process, whose command lines do not say
 * which is the extension's), `extension` (Chromium's extension process), `other` (the
 * browser process, GPU, network, utilities). The host and Node processes are left out.
 * `pages`: each process counted in `page`, by pid (for the growth of the largest one).
 */
export function memoryByKind(root = process.pid) {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,rss=,args=']).toString().trim().split('\n').map((l) => {
    const m = l.trim().match(/^(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/);
    return { pid: Number(m[1]), ppid: Number(m[2]), rss: Number(m[3]), args: m[4] };
  });
  const children = new Map();
  for (const r of rows) children.set(r.ppid, [...(children.get(r.ppid) ?? []), r]);
  const out = { page: 0, extension: 0, other: 0, pages: /** @type {Record<number, number>} */ ({}) };
  const stack = [...(children.get(root) ?? [])];
  while (stack.length) {
    const r = stack.pop();
    stack.push(...(children.get(r.pid) ?? []));
    if (/paraphe-host|^node /.test(r.args)) continue;
    if (/--extension-process/.test(r.args)) out.extension += r.rss;
    else if (/--type=renderer|-contentproc.*\btab$/.test(r.args)) {
      out.page += r.rss;
      out.pages[r.pid] = r.rss;
    }
    else out.other += r.rss;
  }
  return out;
}

/**
 * Starts sampling memoryByKind every 50 ms; the returned function stops and gives the peak
 * growth of each kind over the start, in MiB, and `onePage`: the largest peak growth of one
 * process of the `page` kind (a process that started meanwhile grew from nothing). In
 * Firefox, whose `page` sums every content process, that is the figure for « every process ».
 */
export function sampleMemory(root = process.pid) {
  const { pages: basePages, ...base } = memoryByKind(root);
  const peak = { ...base };
  /** @type {Record<number, number>} */
  const peakPages = { ...basePages };
  const tick = () => {
    const { pages, ...now } = memoryByKind(root);
    for (const k of Object.keys(peak)) peak[k] = Math.max(peak[k], now[k]);
    for (const [pid, rss] of Object.entries(pages)) peakPages[pid] = Math.max(peakPages[pid] ?? 0, rss);
  };
  const timer = setInterval(tick, 50);
  return () => {
    clearInterval(timer);
    tick();
    const onePage = Math.max(0, ...Object.entries(peakPages).map(([pid, rss]) => rss - (basePages[pid] ?? 0)));
    return { ...Object.fromEntries(Object.keys(peak).map((k) => [k, (peak[k] - base[k]) / 1024])), onePage: onePage / 1024 };
  };
}

/**
 * Peak growth of each kind while `big()` runs, over its growth while `small()` runs: what
 * the larger input adds, without what both share (a consent window, the request itself).
 */
export async function growthOver(small, big, root = process.pid) {
  const a = await sampled(small, root);
  const b = await sampled(big, root);
  return Object.fromEntries(Object.keys(b).map((k) => [k, b[k] - a[k]]));
}

/**
 * The peak growth of each kind while `fn()` runs. The sampling stops whatever `fn` does: a
 * sampler left running when `fn` threw kept its test file's process alive for ever, and with
 * it the CI run (ea487db).
 */
async function sampled(fn, root) {
  const stop = sampleMemory(root);
  try {
    await fn();
  } catch (e) {
    stop();
    throw e;
  }
  return stop();
}
