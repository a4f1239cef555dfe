//! What the host adds on top of the token: start-up latency, and the cost of a signature
//! through the host's native-messaging framing against a direct PKCS#11 loop on the same key.
//!
//! Not a test: it prints figures (`harness = false`). `scripts/bench.sh` builds the release
//! host and runs it; `docs/BENCHMARKS.md` records results and says what they mean.
//!
//! ```sh
//! cargo bench -p paraphe-host --bench host_overhead -- [--spawn-runs N] [--signatures N] [--rounds N]
//! ```
//!
//! 1. Start-up, each over `--spawn-runs` fresh processes (default 200): spawn → the `hello`
//!    event; spawn → the answer to a `hello` request; spawn → the answer to
//!    `list-certificates`, the first request that loads the PKCS#11 module.
//! 2. Signing, `--rounds` times (default 3): `--signatures` (default 1000) RSA-2048
//!    signatures (`CKM_RSA_PKCS` over a SHA-256 DigestInfo, key CKA_ID 01 of the demo
//!    token) three ways, one after the other: a direct `cryptoki` loop in this process (one
//!    session, one login); the same loop with a pipe round trip to a `cat` process after
//!    each signature (the process boundary without the host); and through the host, one
//!    `sign` request at a time as the extension sends them (one `login`, N × `sign`,
//!    `logout`). PKCS#1 v1.5 is deterministic, so all three must return the same bytes: the
//!    bench checks it. Wall-clock time, and CPU time and preemptions from the scheduler.
//! 3. What the host's share is made of: a `hello` round trip (framing, JSON, dispatch, two
//!    pipe hops, no token), and `x509::summarize` of the signing certificate, which the
//!    host's `sign` command runs on every request to check the key usage.
//!
//! The token is made by `tests/kit/make-token.sh` in a fresh directory under Cargo's
//! target tmp dir and removed at the end.

// Figures go to stdout: this is a report, not the host. Failures here are bench bugs.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;
use paraphe_formats::{pkcs1, x509};
use paraphe_protocol::HashAlgorithm;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

const PIN: &str = "1234";
const TOKEN_LABEL: &str = "Paraphe Demo";
/// The demo token's RSA-2048 signing identity (tests/kit/README.md).
const SIGNING_ID: &str = "01";
const CHROMIUM_ORIGIN: &str = "chrome-extension://abcdefghijklmnopabcdefghijklmnop/";

struct Options {
    spawn_runs: usize,
    signatures: usize,
    rounds: usize,
}

fn options() -> Options {
    let mut o = Options { spawn_runs: 200, signatures: 1000, rounds: 3 };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = || -> usize {
            args.next()
                .and_then(|v| v.parse().ok())
                .filter(|n| *n > 0)
                .unwrap_or_else(|| panic!("{arg} needs a positive number"))
        };
        match arg.as_str() {
            "--spawn-runs" => o.spawn_runs = number(),
            "--signatures" => o.signatures = number(),
            "--rounds" => o.rounds = number(),
            // `cargo bench` passes --bench; a name filter is meaningless here.
            "--bench" => {}
            other if other.starts_with("--") => panic!("unknown option {other}"),
            _ => {}
        }
    }
    o
}

fn main() {
    let opts = options();
    let kit = Kit::make();
    println!("# paraphe-host benchmarks");
    println!();
    println!("host binary: {}", env!("CARGO_BIN_EXE_paraphe-host"));
    println!("PKCS#11 module: {}", kit.module);
    println!("load average at start: {}", load_average());
    let cpu_start = CpuStat::now();
    println!();

    startup(&kit, opts.spawn_runs);
    signing(&kit, opts.signatures, opts.rounds);

    println!("load average at end: {}", load_average());
    let cpu = CpuStat::now().since(&cpu_start);
    println!(
        "during the run, of all CPUs' time: {:.0} % busy (this bench, its hosts, and anything else), {:.1} % stolen by the hypervisor",
        cpu.busy_percent(),
        cpu.steal_percent()
    );
    let log = kit.host_log_summary();
    if !log.is_empty() {
        println!();
        println!("The hosts wrote to stderr (count × line):");
        println!();
        for (n, line) in log.iter().take(10) {
            println!("- {n} × `{line}`");
        }
    }
}

// ---- start-up ------------------------------------------------------------------------------

fn startup(kit: &Kit, runs: usize) {
    // One unmeasured run of each, so the page cache holds the binary and the module.
    spawn_to_hello_event(kit);
    spawn_to_answer(kit, "hello");
    spawn_to_answer(kit, "list-certificates");

    let mut rows = Vec::new();
    let event: Vec<Duration> = (0..runs).map(|_| spawn_to_hello_event(kit)).collect();
    rows.push(("spawn → `hello` event", event));
    let hello: Vec<Duration> = (0..runs).map(|_| spawn_to_answer(kit, "hello")).collect();
    rows.push(("spawn → `hello` answer", hello));
    let list: Vec<Duration> = (0..runs).map(|_| spawn_to_answer(kit, "list-certificates")).collect();
    rows.push(("spawn → `list-certificates` answer", list));

    println!("## Start-up ({runs} processes each)");
    println!();
    println!("| measurement | median | p90 | min | max |");
    println!("|---|---:|---:|---:|---:|");
    for (name, mut times) in rows {
        let s = Stats::of(&mut times);
        println!("| {name} | {} | {} | {} | {} |", ms(s.median), ms(s.p90), ms(s.min), ms(s.max));
    }
    println!();
}

fn spawn_to_hello_event(kit: &Kit) -> Duration {
    let start = Instant::now();
    let mut port = Port::spawn(kit);
    let hello = port.read_json();
    let elapsed = start.elapsed();
    assert_eq!(hello["event"], "hello", "first frame: {hello}");
    port.finish();
    elapsed
}

/// Writes the request as soon as the process exists (the pipe holds it), as a browser
/// does with the first `postMessage` on a new port.
fn spawn_to_answer(kit: &Kit, command: &str) -> Duration {
    let start = Instant::now();
    let mut port = Port::spawn(kit);
    port.send(&request(1, command, &json!({})));
    let answer = port.read_answer_json();
    let elapsed = start.elapsed();
    assert!(answer.get("error").is_none(), "{command} failed: {answer}");
    if command == "list-certificates" {
        let n = answer["result"]["certificates"].as_array().map_or(0, Vec::len);
        assert_eq!(n, 4, "the demo token holds 4 certificates: {answer}");
    }
    port.finish();
    elapsed
}

// ---- signing -------------------------------------------------------------------------------

struct Signed {
    login: Duration,
    /// Wall-clock time of the signing loop.
    total: Duration,
    /// CPU time of the signing loop: the signer's (this thread, or the host process), and
    /// this thread's as the host's client (writing frames, waiting, reading answers).
    cpu: Duration,
    client_cpu: Duration,
    /// How often the signer was preempted during the loop.
    preempted: u64,
    signatures: Vec<Vec<u8>>,
}

fn signing(kit: &Kit, n: usize, rounds: usize) {
    let fingerprint = kit.fingerprint(SIGNING_ID);
    let certificate = kit.certificate_der(SIGNING_ID);
    // Distinct digests, the same for every loop.
    let digests: Vec<[u8; 32]> = (0..n).map(|i| Sha256::digest(format!("document {i}")).into()).collect();

    // Warm-up: the module loaded once in this process, the host binary in the page cache.
    sign_directly(kit, &digests[..n.min(10)], false);
    sign_through_host(kit, &fingerprint, &digests[..n.min(10)]);

    let per_sig = |d: Duration| d / n as u32;
    let (mut wall_rows, mut cpu_rows) = (Vec::new(), Vec::new());
    let mut runs: Vec<[Signed; 3]> = Vec::new();
    for round in 1..=rounds {
        let direct = sign_directly(kit, &digests, false);
        let echo = sign_directly(kit, &digests, true);
        let host = sign_through_host(kit, &fingerprint, &digests);
        for run in [&echo, &host] {
            assert_eq!(run.signatures.len(), n);
            for (i, (d, h)) in direct.signatures.iter().zip(&run.signatures).enumerate() {
                assert_eq!(d, h, "signature {i}: differs from the direct loop's");
                assert_eq!(d.len(), 256, "signature {i}: not RSA-2048");
            }
        }
        wall_rows.push(format!(
            "| {round} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            ms(direct.total),
            ms(echo.total),
            ms(host.total),
            us(per_sig(direct.total)),
            us(per_sig(echo.total)),
            us(per_sig(host.total)),
            percent(ratio(echo.total, direct.total)),
            percent(ratio(host.total, direct.total)),
            percent(ratio(host.total, echo.total)),
        ));
        cpu_rows.push(format!(
            "| {round} | {} | {} | {} | {} | {} | {} | {} | {} / {} / {} |",
            us(per_sig(direct.cpu)),
            us(per_sig(echo.cpu)),
            us(per_sig(host.cpu)),
            us(per_sig(host.client_cpu)),
            percent(ratio(echo.cpu, direct.cpu)),
            percent(ratio(host.cpu, direct.cpu)),
            percent(ratio(host.cpu, echo.cpu)),
            direct.preempted,
            echo.preempted,
            host.preempted,
        ));
        runs.push([direct, echo, host]);
    }
    let median_of =
        |f: &dyn Fn(&[Signed; 3]) -> Duration| Stats::of(&mut runs.iter().map(f).collect::<Vec<_>>()).median;
    let ratio_of = |f: &dyn Fn(&[Signed; 3]) -> f64| median_f64(&mut runs.iter().map(f).collect::<Vec<_>>());
    let wall = [0, 1, 2].map(|k| median_of(&|r| r[k].total));
    let cpu = [0, 1, 2].map(|k| median_of(&|r| r[k].cpu));
    let client_cpu = median_of(&|r| r[2].client_cpu);
    let login = [0, 2].map(|k| median_of(&|r| r[k].login));
    let wall_boundary = ratio_of(&|r| ratio(r[1].total, r[0].total));
    let wall_host = ratio_of(&|r| ratio(r[2].total, r[0].total));
    let cpu_boundary = ratio_of(&|r| ratio(r[1].cpu, r[0].cpu));
    let cpu_host = ratio_of(&|r| ratio(r[2].cpu, r[0].cpu));
    // Against the loop that crosses a process boundary too: what the host's code adds.
    let wall_code = ratio_of(&|r| ratio(r[2].total, r[1].total));
    let cpu_code = ratio_of(&|r| ratio(r[2].cpu, r[1].cpu));

    println!("## Signing: {n} × RSA-2048 CKM_RSA_PKCS over a SHA-256 DigestInfo, {rounds} rounds");
    println!();
    println!("- direct: cryptoki in this process, one session, one login, `Session::sign` per digest;");
    println!("- direct + pipe: the same, plus a 400-byte round trip through a `cat` process after each");
    println!("  signature, so the signer sleeps and wakes as the host does, without the host's code;");
    println!("- host: one `login`, then one `sign` request at a time over the pipes, as the extension does.");
    println!();
    println!("Every signature was checked equal to the direct loop's (PKCS#1 v1.5 is deterministic).");
    println!("A round runs the three loops one after the other; overheads are against that round's");
    println!("direct loop, and the median row's are the medians of the rounds'. Login (one call, median):");
    println!("direct {}, host {}.", ms(login[0]), ms(login[1]));
    println!();
    println!("Wall-clock time of the signing loop:");
    println!();
    println!(
        "| round | direct | direct + pipe | host | direct / sig | direct + pipe / sig | host / sig | pipe vs direct | host vs direct | host vs direct + pipe |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in wall_rows {
        println!("{r}");
    }
    println!(
        "| median | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
        ms(wall[0]),
        ms(wall[1]),
        ms(wall[2]),
        us(per_sig(wall[0])),
        us(per_sig(wall[1])),
        us(per_sig(wall[2])),
        percent(wall_boundary),
        percent(wall_host),
        percent(wall_code)
    );
    println!();
    println!("CPU time per signature (schedstat) of the signer, and of the bench as the host's client;");
    println!("preemptions of the signer during the {n} signatures:");
    println!();
    println!(
        "| round | direct | direct + pipe | host process | host's client | pipe vs direct | host vs direct | host vs direct + pipe | preemptions (direct / + pipe / host) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in cpu_rows {
        println!("{r}");
    }
    println!(
        "| median | {} | {} | {} | {} | {} | {} | {} | |",
        us(per_sig(cpu[0])),
        us(per_sig(cpu[1])),
        us(per_sig(cpu[2])),
        us(per_sig(client_cpu)),
        percent(cpu_boundary),
        percent(cpu_host),
        percent(cpu_code)
    );
    println!();
    // A negative overhead is noise (the machine did something else during the direct loop):
    // such a run says nothing about the target, so it says so rather than "met".
    let verdict = |r: f64| {
        if r < 0.0 {
            "not measured (noise: the host came out faster than the direct loop)"
        } else if r <= 0.05 {
            "met"
        } else {
            "NOT met"
        }
    };
    println!(
        "Target host overhead ≤ 5 %, against the direct loop: wall clock {} ({}), host CPU {} ({});",
        verdict(wall_host),
        percent(wall_host),
        verdict(cpu_host),
        percent(cpu_host)
    );
    println!(
        "against the direct loop with a pipe round trip: wall clock {} ({}), host CPU {} ({}).",
        verdict(wall_code),
        percent(wall_code),
        verdict(cpu_code),
        percent(cpu_code)
    );
    println!();

    // What the difference is made of.
    let round_trip = hello_round_trip(kit, n);
    let summarize = summarize_cost(&certificate, n);
    println!("## Where the host's share goes (per request)");
    println!();
    println!("| part | time |");
    println!("|---|---:|");
    println!(
        "| host − direct, wall clock per signature (medians) | {} |",
        us_difference(per_sig(wall[2]), per_sig(wall[0]))
    );
    println!("| host − direct, CPU per signature (medians) | {} |", us_difference(per_sig(cpu[2]), per_sig(cpu[0])));
    println!(
        "| (direct + pipe) − direct, CPU per signature (medians): the process boundary alone | {} |",
        us_difference(per_sig(cpu[1]), per_sig(cpu[0]))
    );
    println!(
        "| `hello` round trip, wall clock ({n} requests, one process): framing, JSON, dispatch, 2 pipe hops | {} |",
        us(round_trip.wall)
    );
    println!(
        "| `hello` round trip, host CPU: main thread / all threads | {} / {} |",
        us(round_trip.main_cpu),
        us(round_trip.cpu)
    );
    println!(
        "| `x509::summarize` of the signing certificate (the `sign` key-usage check), in this process | {} |",
        us(summarize)
    );
    println!();
}

fn ratio(host: Duration, direct: Duration) -> f64 {
    host.as_secs_f64() / direct.as_secs_f64() - 1.0
}

fn median_f64(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[(v.len() - 1) / 2]
}

fn percent(r: f64) -> String {
    format!("{:+.1} %", r * 100.0)
}

/// N signatures with cryptoki on the demo token: one session, one login, `C_SignInit` +
/// `C_Sign` per digest (cryptoki's `Session::sign`, as the host's backend calls it).
///
/// With `echo`, each signature is followed by a 400-byte round trip through a `cat`
/// process over pipes, about what a `sign` answer weighs: the signer sleeps and wakes as
/// the host does between requests, without any of the host's code. The difference between
/// this loop and the plain one is the price of the process boundary itself.
fn sign_directly(kit: &Kit, digests: &[[u8; 32]], echo: bool) -> Signed {
    let ctx = Pkcs11::new(&kit.module).expect("load the module");
    ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)).expect("C_Initialize");
    let slot = ctx
        .get_slots_with_token()
        .expect("C_GetSlotList")
        .into_iter()
        .find(|s| ctx.get_token_info(*s).is_ok_and(|t| t.label().trim() == TOKEN_LABEL))
        .expect("the demo token");
    let session = ctx.open_ro_session(slot).expect("C_OpenSession");
    let start = Instant::now();
    session.login(UserType::User, Some(&AuthPin::from(PIN.to_owned()))).expect("C_Login");
    let login = start.elapsed();
    let id = hex::decode(SIGNING_ID).expect("hex id");
    let key = *session
        .find_objects(&[Attribute::Class(ObjectClass::PRIVATE_KEY), Attribute::Id(id)])
        .expect("C_FindObjects")
        .first()
        .expect("the signing key");

    let mut cat = echo.then(|| {
        let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("spawn cat");
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        (child, stdin, stdout)
    });
    let message = [b'x'; 400];
    let mut back = [0u8; 400];

    let mut signatures = Vec::with_capacity(digests.len());
    let before = Sched::thread();
    let start = Instant::now();
    for d in digests {
        let input = pkcs1::digest_info(HashAlgorithm::Sha256, d);
        signatures.push(session.sign(&Mechanism::RsaPkcs, key, &input).expect("C_Sign"));
        if let Some((_, to_cat, from_cat)) = cat.as_mut() {
            to_cat.write_all(&message).expect("write to cat");
            from_cat.read_exact(&mut back).expect("read from cat");
        }
    }
    let total = start.elapsed();
    let signer = Sched::thread().since(&before);
    if let Some((mut child, to_cat, _)) = cat {
        drop(to_cat);
        child.wait().expect("cat exits");
    }

    session.logout().expect("C_Logout");
    drop(session);
    ctx.finalize().expect("C_Finalize");
    Signed { login, total, cpu: signer.cpu, client_cpu: Duration::ZERO, preempted: signer.preempted, signatures }
}

/// The same signatures through a host process, one request at a time: each `sign` frame is
/// written only after the previous answer was read, as the extension does. Request frames
/// are built before the clock starts and answers decoded after it stops, so the client's
/// own JSON work is not counted.
fn sign_through_host(kit: &Kit, fingerprint: &str, digests: &[[u8; 32]]) -> Signed {
    let mut port = Port::spawn(kit);
    let hello = port.read_json();
    assert_eq!(hello["event"], "hello");

    let start = Instant::now();
    port.send(&request(1, "login", &json!({"certificate": fingerprint, "pin": PIN, "purpose": "sign-raw"})));
    let answer = port.read_answer_json();
    let login = start.elapsed();
    let session = answer["result"]["session"].as_str().unwrap_or_else(|| panic!("login failed: {answer}")).to_owned();

    let frames: Vec<Vec<u8>> = digests
        .iter()
        .enumerate()
        .map(|(i, d)| {
            frame(&request(
                i as u64 + 2,
                "sign",
                &json!({
                    "session": session,
                    "digest": B64.encode(d),
                    "hash": "sha256",
                    "scheme": "rsa-pkcs1",
                }),
            ))
        })
        .collect();
    let mut answers = Vec::with_capacity(frames.len());
    let host_pid = port.child.id();
    let (before, client_before) = (Sched::process(host_pid), Sched::thread());
    let start = Instant::now();
    for f in &frames {
        port.write_all(f);
        answers.push(port.read_answer());
    }
    let total = start.elapsed();
    let (signer, client) = (Sched::process(host_pid).since(&before), Sched::thread().since(&client_before));

    let id = digests.len() as u64 + 2;
    port.send(&request(id, "logout", &json!({"session": session})));
    let bye = port.read_answer_json();
    assert!(bye.get("error").is_none(), "logout failed: {bye}");
    port.finish();

    let signatures = answers
        .iter()
        .enumerate()
        .map(|(i, body)| {
            let v: Value = serde_json::from_slice(body).expect("JSON answer");
            assert_eq!(v["id"], json!(i as u64 + 2), "answer out of order: {v}");
            let sig = v["result"]["signature"].as_str().unwrap_or_else(|| panic!("sign failed: {v}"));
            B64.decode(sig).expect("base64 signature")
        })
        .collect();
    Signed { login, total, cpu: signer.cpu, client_cpu: client.cpu, preempted: signer.preempted, signatures }
}

struct RoundTrip {
    wall: Duration,
    /// All the host's threads, and its main thread alone (the card monitor is another).
    cpu: Duration,
    main_cpu: Duration,
}

/// Mean wall-clock time of a `hello` request/answer, and the host's CPU time for it, over
/// `n` requests in one process.
fn hello_round_trip(kit: &Kit, n: usize) -> RoundTrip {
    let mut port = Port::spawn(kit);
    port.read_json();
    let frames: Vec<Vec<u8>> = (0..n).map(|i| frame(&request(i as u64 + 1, "hello", &json!({})))).collect();
    let host_pid = port.child.id();
    let main_thread = PathBuf::from(format!("/proc/{host_pid}/task/{host_pid}"));
    let (before, main_before) = (Sched::process(host_pid), Sched::task(&main_thread));
    let start = Instant::now();
    for f in &frames {
        port.write_all(f);
        port.read_answer();
    }
    let wall = start.elapsed();
    let cpu = Sched::process(host_pid).since(&before).cpu;
    let main_cpu = Sched::task(&main_thread).since(&main_before).cpu;
    port.finish();
    RoundTrip { wall: wall / n as u32, cpu: cpu / n as u32, main_cpu: main_cpu / n as u32 }
}

/// Mean time of `x509::summarize` on `der`, over `n` calls.
fn summarize_cost(der: &[u8], n: usize) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        let info = x509::summarize(std::hint::black_box(der), &[]).expect("certificate");
        std::hint::black_box(info);
    }
    start.elapsed() / n as u32
}

// ---- the token and the host process ---------------------------------------------------------

/// The demo token made by the test kit, in a directory of its own.
struct Kit {
    dir: PathBuf,
    config: PathBuf,
    module: String,
}

impl Kit {
    fn make() -> Kit {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("repository root").to_path_buf();
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("bench-kit-{}", std::process::id()));
        let out = Command::new("bash")
            .arg(repo.join("tests/kit/make-token.sh"))
            .arg(&dir)
            .output()
            .expect("run tests/kit/make-token.sh");
        assert!(out.status.success(), "make-token.sh failed: {}", String::from_utf8_lossy(&out.stderr));
        let module = softhsm_module();
        let config = dir.join("paraphe-config.json");
        let cfg = json!({ "builtinModules": false, "modules": [module] });
        std::fs::write(&config, cfg.to_string()).expect("write the host config");
        // For the direct loop: SoftHSM reads it at C_Initialize. Single-threaded here.
        std::env::set_var("SOFTHSM2_CONF", dir.join("softhsm2.conf"));
        Kit { dir, config, module }
    }

    fn certificate_der(&self, id: &str) -> Vec<u8> {
        let pem =
            std::fs::read_to_string(self.dir.join("pki").join(format!("{id}.crt"))).expect("read the certificate");
        let body: String = pem
            .lines()
            .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE"))
            .skip(1)
            .take_while(|l| !l.starts_with("-----END"))
            .collect();
        B64.decode(body).expect("PEM body")
    }

    fn fingerprint(&self, id: &str) -> String {
        x509::fingerprint(&self.certificate_der(id))
    }

    fn host_command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_paraphe-host"));
        c.arg(CHROMIUM_ORIGIN)
            .env("SOFTHSM2_CONF", self.dir.join("softhsm2.conf"))
            .env("PARAPHE_CONFIG", &self.config)
            .env_remove("PARAPHE_PKCS11_MODULES")
            .env_remove("PARAPHE_LOG")
            .env_remove("PARAPHE_LOG_FILE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(self.stderr_log());
        c
    }
}

impl Kit {
    /// Where the hosts' stderr goes: their warnings are reported at the end.
    fn stderr_log(&self) -> Stdio {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("host-stderr.log"))
            .expect("open the hosts' log");
        Stdio::from(file)
    }

    /// The hosts' stderr, line by line, with how often each line came (pids stripped).
    fn host_log_summary(&self) -> Vec<(usize, String)> {
        let text = std::fs::read_to_string(self.dir.join("host-stderr.log")).unwrap_or_default();
        let mut counts: Vec<(usize, String)> = Vec::new();
        for line in text.lines() {
            let line = line.split_once("] ").map_or(line, |(_, rest)| rest).to_owned();
            match counts.iter_mut().find(|(_, l)| *l == line) {
                Some((n, _)) => *n += 1,
                None => counts.push((1, line)),
            }
        }
        counts
    }
}

impl Drop for Kit {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn softhsm_module() -> String {
    let multiarch = format!("/usr/lib/{}-linux-gnu/softhsm/libsofthsm2.so", std::env::consts::ARCH);
    std::env::var("PARAPHE_SOFTHSM_MODULE")
        .ok()
        .into_iter()
        .chain(["/usr/lib/softhsm/libsofthsm2.so".to_owned(), multiarch])
        .find(|p| Path::new(p).exists())
        .expect("SoftHSM2 is not installed: run scripts/setup.sh")
}

/// A host process spoken to as a browser speaks to it.
struct Port {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Port {
    fn spawn(kit: &Kit) -> Port {
        let mut child = kit.host_command().spawn().expect("spawn paraphe-host");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        Port { child, stdin, stdout }
    }

    /// Writes a whole frame in one `write`, as browsers do.
    fn write_all(&mut self, frame: &[u8]) {
        let w = self.stdin.as_mut().expect("input open");
        w.write_all(frame).expect("write to the host");
    }

    fn send(&mut self, body: &[u8]) {
        self.write_all(&frame(body));
    }

    fn read_frame(&mut self) -> Vec<u8> {
        let mut len = [0u8; 4];
        self.stdout.read_exact(&mut len).expect("host closed its output");
        let mut body = vec![0u8; u32::from_ne_bytes(len) as usize];
        self.stdout.read_exact(&mut body).expect("frame body");
        body
    }

    fn read_json(&mut self) -> Value {
        serde_json::from_slice(&self.read_frame()).expect("JSON frame")
    }

    /// The next frame that is not an event (card events may come at any time).
    fn read_answer(&mut self) -> Vec<u8> {
        #[derive(serde::Deserialize)]
        struct Probe {
            event: Option<serde::de::IgnoredAny>,
        }
        loop {
            let body = self.read_frame();
            let probe: Probe = serde_json::from_slice(&body).expect("JSON frame");
            if probe.event.is_none() {
                return body;
            }
        }
    }

    fn read_answer_json(&mut self) -> Value {
        serde_json::from_slice(&self.read_answer()).expect("JSON frame")
    }

    /// Closes the port and waits for the host to exit, as when a tab goes away.
    fn finish(mut self) {
        self.stdin = None;
        let status = self.child.wait().expect("wait for the host");
        assert!(status.success(), "host exited with {status}");
    }
}

fn request(id: u64, command: &str, arguments: &Value) -> Vec<u8> {
    json!({"id": id, "command": command, "arguments": arguments}).to_string().into_bytes()
}

fn frame(body: &[u8]) -> Vec<u8> {
    let len = u32::try_from(body.len()).expect("frame under 4 GiB");
    let mut f = len.to_ne_bytes().to_vec();
    f.extend_from_slice(body);
    f
}

// ---- figures -------------------------------------------------------------------------------

struct Stats {
    median: Duration,
    p90: Duration,
    min: Duration,
    max: Duration,
}

impl Stats {
    /// Nearest-rank percentiles.
    fn of(times: &mut [Duration]) -> Stats {
        assert!(!times.is_empty());
        times.sort();
        let rank = |p: f64| {
            let r = (p * times.len() as f64).ceil() as usize;
            times[r.clamp(1, times.len()) - 1]
        };
        Stats { median: rank(0.5), p90: rank(0.9), min: times[0], max: times[times.len() - 1] }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// `a − b`, signed.
fn us_difference(a: Duration, b: Duration) -> String {
    format!("{:+.1} µs", (a.as_secs_f64() - b.as_secs_f64()) * 1e6)
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

/// What the scheduler says of a thread or process (`/proc/.../schedstat` and `sched`):
/// time on CPU, preemptions.
struct Sched {
    cpu: Duration,
    preempted: u64,
}

impl Sched {
    fn thread() -> Sched {
        Self::task(Path::new("/proc/thread-self"))
    }

    /// All threads of process `pid`.
    fn process(pid: u32) -> Sched {
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("the host's threads");
        tasks.filter_map(|t| t.ok()).map(|t| Self::task(&t.path())).fold(
            Sched { cpu: Duration::ZERO, preempted: 0 },
            |a, b| Sched { cpu: a.cpu + b.cpu, preempted: a.preempted + b.preempted },
        )
    }

    fn task(dir: &Path) -> Sched {
        let schedstat = std::fs::read_to_string(dir.join("schedstat")).unwrap_or_default();
        let ns = schedstat.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0);
        let sched = std::fs::read_to_string(dir.join("sched")).unwrap_or_default();
        let field = |name: &str| {
            sched
                .lines()
                .find(|l| l.split(':').next().is_some_and(|k| k.trim() == name))
                .and_then(|l| l.split(':').nth(1))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0)
        };
        Sched { cpu: Duration::from_nanos(ns), preempted: field("nr_involuntary_switches") }
    }

    fn since(&self, before: &Sched) -> Sched {
        Sched { cpu: self.cpu.saturating_sub(before.cpu), preempted: self.preempted.saturating_sub(before.preempted) }
    }
}

/// The machine's CPU time counters (`/proc/stat`, first line), in ticks.
struct CpuStat {
    busy: u64,
    idle: u64,
    steal: u64,
}

impl CpuStat {
    fn now() -> CpuStat {
        let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let v: Vec<u64> =
            text.lines().next().unwrap_or_default().split_whitespace().skip(1).filter_map(|n| n.parse().ok()).collect();
        let at = |i: usize| v.get(i).copied().unwrap_or(0);
        // user nice system idle iowait irq softirq steal
        CpuStat { busy: at(0) + at(1) + at(2) + at(5) + at(6), idle: at(3) + at(4), steal: at(7) }
    }

    fn since(&self, before: &CpuStat) -> CpuStat {
        CpuStat {
            busy: self.busy.saturating_sub(before.busy),
            idle: self.idle.saturating_sub(before.idle),
            steal: self.steal.saturating_sub(before.steal),
        }
    }

    fn total(&self) -> f64 {
        (self.busy + self.idle + self.steal).max(1) as f64
    }

    fn busy_percent(&self) -> f64 {
        100.0 * self.busy as f64 / self.total()
    }

    fn steal_percent(&self) -> f64 {
        100.0 * self.steal as f64 / self.total()
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}
