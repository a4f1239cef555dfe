// The real nginx (Debian's nginx-light or nginx package, scripts/setup.sh) as a test portal:
// started by the test as its own process (`daemon off`, one process), with its own
// configuration, pid file, logs and temporary directories in a throw-away directory, listening
// on 127.0.0.1 on free ports; no system path is read or written (`-p`, `-e`).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const NGINX = process.env.PARAPHE_NGINX ?? ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A port nobody listens on now (nginx binds it next; a port taken meanwhile makes it exit, and it is tried again). */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (s.address());
      s.close(() => resolve(port));
    });
  });
}

/** Whether something accepts connections on 127.0.0.1:`port`. */
function accepts(port) {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}

/**
 * Starts nginx in `dir` with one https `server` block per entry of `servers` (each a string of
 * directives: `ssl_verify_client`, `location`s…), all with `tls` (lib.tlsFor: {key, cert}) as
 * the server certificate. Resolves to {urls: ['https://127.0.0.1:<port>/', …], errorLog, close}.
 */
export async function startNginx(dir, tls, servers) {
  if (!NGINX) throw new Error('nginx is missing: scripts/setup.sh installs it (Debian package nginx-light)');
  fs.mkdirSync(path.join(dir, 'temp'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'server.key'), tls.key, { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'server.crt'), tls.cert);
  const errorLog = path.join(dir, 'error.log');
  for (let attempt = 0; ; attempt++) {
    const ports = [];
    for (let i = 0; i < servers.length; i++) ports.push(await freePort());
    const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${path.join(dir, 'temp', t)};`);
    const conf = [
      'daemon off;',
      'master_process off;',
      'worker_processes 1;',
      `pid ${path.join(dir, 'nginx.pid')};`,
      `error_log ${errorLog} info;`,
      'events { worker_connections 64; }',
      'http {',
      `  access_log ${path.join(dir, 'access.log')};`,
      ...temp,
      '  default_type text/html;',
      ...servers.map((directives, i) => `  server {
    listen 127.0.0.1:${ports[i]} ssl;
    ssl_certificate ${path.join(dir, 'server.crt')};
    ssl_certificate_key ${path.join(dir, 'server.key')};
    ${directives}
  }`),
      '}',
    ].join('\n');
    const file = path.join(dir, 'nginx.conf');
    fs.writeFileSync(file, conf);
    const child = spawn(NGINX, ['-p', dir, '-c', file, '-e', errorLog], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const exited = new Promise((resolve) => {
      child.once('exit', resolve);
      child.once('error', (e) => { stderr += e.message; resolve(null); }); // not started
    });
    let gone = false;
    exited.then(() => { gone = true; });
    // Until it listens on every port, or exits (a port taken meanwhile: try again).
    for (;;) {
      if (gone) break;
      const up = await Promise.all(ports.map(accepts));
      if (up.every(Boolean)) {
        return {
          urls: ports.map((p) => `https://127.0.0.1:${p}/`),
          errorLog,
          close: async () => {
            if (!gone) child.kill('SIGTERM');
            await exited;
          },
        };
      }
      await sleep(50);
    }
    const log = fs.existsSync(errorLog) ? fs.readFileSync(errorLog, 'utf8') : '';
    if (attempt < 3 && /Address already in use/.test(stderr + log)) continue;
    throw new Error(`nginx exited: ${stderr}${log.slice(-2000)}`);
  }
}
